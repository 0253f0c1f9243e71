"""The services callers see, built from gateway.surface: forwarding over mTLS, backend errors made safe.

May import: gateway.surface, gateway.callers, gateway.ratelimit, gateway.cache, gamekit, the generated stubs.
"""
