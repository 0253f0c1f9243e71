"""Channels from one service to another: mTLS that follows rotation, deadlines, request ids, retries.

May import: gamekit (call_context, errors, security, paging for the message limit). Never serving or
database.
"""
