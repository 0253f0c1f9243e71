"""Ingestion's gRPC transport: protos in, runner and ledger calls, protos out.

May import: every other ingestion package, gamekit, the generated stubs.
"""
