"""Serving a service: the host (ports, health, reflection, graceful stop), its interceptor, its workers.

May import: gamekit.call_context, errors, status, settings, security, observability. Services build
their processes on `serving.host`; nothing else of gamekit imports serving.
"""
