"""The catalog's PostgreSQL: tables, queries and migrations. Every function takes the connection it is given.

May import: catalog.model (rows become domain values), gamekit (database, errors, paging), SQLAlchemy and
psycopg. Never the transport or the domain: storage never opens a transaction of its own. (`RevisionFeed`
keeps one LISTEN connection of its own, outside any transaction.)
"""
