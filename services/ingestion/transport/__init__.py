"""Ingestion's gRPC transport: protos in, runner and ledger calls, protos out.

May import: ingestion.runs, ingestion.ledger (the Get and List methods read it), ingestion.model,
gamekit (call_context, errors, resource_names, timestamps), the generated ingestion stubs.
"""
