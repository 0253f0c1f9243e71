"""The catalog's gRPC transport: protos in, a domain service call, protos out, errors as statuses.

May import: catalog.domain, catalog.model, gamekit (call_context, errors, paging, resource_names,
timestamps), the generated stubs. Never catalog.storage or SQLAlchemy.
"""
