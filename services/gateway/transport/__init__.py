"""The services callers see, built from gateway.surface: forwarding over mTLS, backend errors made safe.

May import: gateway.surface, gateway.settings (the backends' targets and timeouts), gateway.cache,
gamekit (call_context, clients, errors, serving, status), the generated stubs. Callers and limits are
handed in by the app, so never gateway.callers or gateway.ratelimit.
"""
