"""The catalog service: owns the games data in PostgreSQL.

`transport` (gRPC in and out) calls `domain` (input checks, and the service that opens every
transaction), which calls `storage` (tables, queries, migrations); `model` holds the values all three
share. `app` puts them together; `__main__` runs it. Imports only gamekit and the generated stubs from
outside: never another service.
"""
