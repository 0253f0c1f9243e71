"""The gateway: the one door for callers (API keys, scopes, rate limits, cache, error hygiene).

`surface` lists what it serves; `transport` forwards each call, after `callers` says who is calling
and what they may do (with `ratelimit`) and `cache` may answer. `app` puts them together. Imports only
gamekit and the generated stubs from outside: the backends are reached over gRPC.
"""
