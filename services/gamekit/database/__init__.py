"""PostgreSQL for the services that own a schema: engines, error translation, timeouts, migrations.

May import: gamekit (call_context: a statement's timeout follows the call's deadline; errors). Never
serving or clients.
"""
