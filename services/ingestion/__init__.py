"""The ingestion service: S3 deliveries into catalog imports, exactly once.

`transport` (gRPC) starts `runs`; a run lists `sources` (S3, SQS events) and hands each new file to
`importing`, which has `parsing` turn bytes into records and streams them to the catalog, keeping the
`ledger` (its own PostgreSQL schema). `model` and `metrics` are shared by all; `app` puts them together.
Imports only gamekit and the generated stubs from outside: the catalog is reached over gRPC.
"""
