"""One delivered file into one catalog import: parsed records as an ImportGames stream to the catalog.

May import: ingestion.parsing, ingestion.sources, ingestion.model, ingestion.metrics, gamekit (errors,
status, timestamps), the catalog's generated stubs (its contract, never its code). It writes the ledger
through the `RecordSink` it is handed, so it never imports the ledger, the runs or the transport.
"""
