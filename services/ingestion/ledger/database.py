"""The ledger's database: engine settings and error translation, on gamekit.database.engines.

Only connection and pool failures are translated (into `Unavailable`); other driver errors pass through.
"""

from __future__ import annotations

from gamekit.database.engines import Database

LEDGER_DATABASE = Database(
    application_name="ingestion",
    unavailable_message="the ingestion ledger database is unavailable",
    pool_size=5,
    pool_timeout=10.0,
    conflicts=False,
)
make_engine = LEDGER_DATABASE.make_engine
translate_errors = LEDGER_DATABASE.translate_errors
transaction = LEDGER_DATABASE.transaction
connection = LEDGER_DATABASE.connection
