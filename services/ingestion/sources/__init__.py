"""Where deliveries come from: S3 listings and bodies, and S3 event notifications read from SQS.

May import: ingestion.model, ingestion.metrics, gamekit.errors, boto3. Never the transport, runs,
importing or the ledger: a source only says what was delivered.
"""
