"""What SREs read: JSON logs, Prometheus metrics (one port per pod), OpenTelemetry traces.

May import: gamekit.call_context (a log line's request id), settings. Never serving, clients or database.
"""
