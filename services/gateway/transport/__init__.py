"""The services callers see: the method table, forwarding over mTLS, and backend errors made safe.

May import: gateway.callers, gateway.ratelimit, gateway.cache, gamekit, the generated stubs.
"""
