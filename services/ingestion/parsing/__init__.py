"""Delivered bytes to game records: the file's shape, each app's fields, the dirt repaired or quarantined.

May import: ingestion.model only, besides the standard library and ijson: no grpc, SQL, boto3 or
metrics, so the parser can be fuzzed and reasoned about alone.
"""
