"""One delivered file into one catalog import: parsed records as an ImportGames stream to the catalog.

May import: ingestion.parsing, ingestion.ledger, ingestion.sources, ingestion.model, ingestion.metrics,
gamekit, the catalog's generated stubs (its contract, never its code). Never the transport or runs.
"""
