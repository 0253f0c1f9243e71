"""The ingestion service: S3 deliveries into catalog imports, exactly once."""
