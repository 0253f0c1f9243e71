"""`<service> migrate` against a database that does not answer: one clear line and exit code 1."""

from __future__ import annotations

import logging

from catalog.storage import migrate
from gamectl.net import free_port


def test_unreachable_database_is_one_line_and_exit_1(caplog):
    url = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/games"
    log = logging.getLogger("catalog")
    with caplog.at_level(logging.INFO, logger="catalog"):
        code = migrate.MIGRATIONS.upgrade_command(url, database="catalog database", log=log)
    assert code == 1
    assert [r.getMessage() for r in caplog.records] == [
        "cannot migrate: the catalog database is unreachable (OperationalError)"
    ]
