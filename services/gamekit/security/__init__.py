"""Who may connect and call: mTLS credentials that follow rotation, and SPIFFE identities with policies.

May import: gamekit.errors. Nothing else of gamekit.
"""
