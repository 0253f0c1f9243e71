"""Serving a service: the host (ports, health, reflection, graceful stop), its interceptor, its workers.

May import: gamekit (call_context, errors, status, settings, security, observability). Services build
on `serving.host` (the gateway also on `calls`, `handlers` and `workers`); nothing else of gamekit
imports serving.
"""
