"""Who is calling and what they may do: API keys, identities, scopes, and calls in flight per caller.

May import: gateway.surface (the scope each method needs), gamekit (call_context, errors, serving's
`Gate`). The rate limiter is handed in, so never gateway.ratelimit, the transport or the cache.
"""
