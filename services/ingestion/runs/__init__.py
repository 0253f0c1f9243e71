"""A run: every delivery of a prefix (or the one an event names) into the catalog, and what it reports.

May import: ingestion.importing, ingestion.ledger, ingestion.sources, ingestion.model, ingestion.metrics,
gamekit (call_context, errors). Never the transport.
"""
