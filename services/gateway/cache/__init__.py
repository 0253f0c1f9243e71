"""Responses of catalog reads, kept until the catalog's revision changes, and the watch that follows it.

May import: gamekit (security, status), the catalog's generated stubs. Nothing else of the gateway.
"""
