"""Shared runtime of every games-platform service: settings, mTLS, server bootstrap, errors, telemetry.

`serving` runs a service, using `security` and `observability`; `clients` connects one service to
another, using `security` and `paging`; `database` serves the services that own a schema. At the top:
`settings`, `errors` and `status` (errors as gRPC statuses), `call_context` (per-call values), and the
proto values every converter shares (`resource_names`, `timestamps`). Imports no service: catalog,
ingestion and gateway import it, never the other way round.
"""
