"""Shared runtime of every games-platform service: settings, mTLS, server bootstrap, errors, telemetry.

Imports no service: catalog, ingestion and gateway import it, never the other way round.
"""
