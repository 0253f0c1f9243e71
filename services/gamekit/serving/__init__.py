"""Serving a service: the host (ports, health, reflection, graceful stop), its interceptor, its workers.

May import: gamekit (call_context, errors, status, settings, security, observability). Services build
on `serving.host` and say how they are hosted with `serving.options` (the gateway also uses `calls`,
`handlers` and `workers`); nothing else of gamekit imports serving.
"""
