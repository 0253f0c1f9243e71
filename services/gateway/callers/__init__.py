"""Who is calling and what they may do: API keys, identities, scopes, and calls in flight per caller.

May import: gateway.surface (the scope each method needs), gateway.ratelimit (a caller's limits), gamekit.
Never the transport or the cache.
"""
