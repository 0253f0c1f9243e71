"""The catalog's PostgreSQL: tables, queries and migrations. Every function takes the connection it is given.

May import: catalog.domain.model (rows become domain values), gamekit, SQLAlchemy. Never the transport,
nor the domain service: storage never opens a transaction of its own.
"""
