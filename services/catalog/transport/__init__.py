"""The catalog's gRPC transport: protos in, a domain service call, protos out, errors as statuses.

May import: catalog.domain, gamekit, the generated stubs. Never catalog.storage or SQLAlchemy.
"""
