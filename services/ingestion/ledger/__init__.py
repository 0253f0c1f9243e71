"""Ingestion's own PostgreSQL schema: runs, files, quarantined records, repairs, and the locks on them.

May import: ingestion.model, ingestion.metrics, gamekit, SQLAlchemy. Never the transport, runs or importing.
"""
