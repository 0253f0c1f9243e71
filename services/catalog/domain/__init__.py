"""The catalog's domain: its input checks, and the service that decides what commits together.

May import: catalog.model, catalog.storage (the service opens each transaction and hands its connection
to storage functions), gamekit (errors, paging). Never grpc, the generated stubs or SQLAlchemy: storage
names the connection type.
"""
