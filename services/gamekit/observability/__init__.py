"""What SREs read: JSON logs, Prometheus metrics (one port per pod), OpenTelemetry traces.

May import: gamekit (call_context for a log line's request id, settings). Nothing else of gamekit.
"""
