"""Per-key rate limits: GCRA in Redis shared by every replica, an in-process fallback, the replica count.

May import: gamekit.errors, redis-py. Nothing else of the gateway.
"""
