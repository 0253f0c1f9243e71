"""Shared runtime of every games-platform service: settings, mTLS, server bootstrap, errors, telemetry.

`serving` runs a service (and is what the services build on); `clients` connects one to another;
`observability`, `security`, `database` and `paging` are what both use. At the top: `settings`,
`errors` and `status` (errors as gRPC statuses), `call_context` (per-call values), and the proto values
every converter shares (`resource_names`, `timestamps`). Imports no service: catalog, ingestion and
gateway import it, never the other way round.
"""
