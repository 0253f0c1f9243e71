"""Shared runtime of every games-platform service: settings, mTLS, server bootstrap, errors, telemetry."""
