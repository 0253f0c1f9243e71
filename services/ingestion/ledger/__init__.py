"""Ingestion's own PostgreSQL schema: runs, files, quarantined records, repairs, and the locks on them.

A repository: `Ledger`, the file claims and the run leases hold the engine and own their transactions
(a claim holds a session lock across a whole import). May import: ingestion.model, ingestion.metrics,
gamekit (database, errors, paging), SQLAlchemy. Never the transport, runs or importing.
"""
