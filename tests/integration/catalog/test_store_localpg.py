import os

import psycopg

from catalog.storage.migrate import downgrade, upgrade
from gamectl.localpg import LocalPostgres


def query(server, sql, database="games"):
    with psycopg.connect(server.conninfo(database), autocommit=True) as conn:
        cursor = conn.execute(sql)
        return cursor.fetchall() if cursor.description else []


def test_restart_keeps_port_and_data_and_survives_a_stale_pid(private_postgres):
    port = private_postgres.port
    assert private_postgres.url() == f"postgresql+psycopg://postgres@127.0.0.1:{port}/games"
    query(private_postgres, "CREATE TABLE kept (x int)")
    query(private_postgres, "INSERT INTO kept VALUES (1)")
    private_postgres.kill()
    pid_file = private_postgres.data_dir / "postmaster.pid"
    assert pid_file.exists()  # a killed postmaster leaves its pid file behind
    private_postgres.start()
    assert private_postgres.port == port
    assert query(private_postgres, "SELECT x FROM kept") == [(1,)]
    private_postgres.stop()
    private_postgres.stop()  # idempotent
    private_postgres.kill()  # harmless when stopped
    pid_file.write_text(f"{os.getpid()}\n")  # a pid file naming a live non-postgres process
    with private_postgres:
        assert query(private_postgres, "SELECT 1") == [(1,)]


def test_create_database_and_extensions(private_postgres):
    url = private_postgres.create_database("other")
    assert url.endswith("/other")
    assert private_postgres.create_database("other") == url  # idempotent
    rows = query(
        private_postgres, "SELECT name FROM pg_available_extensions WHERE name IN ('pg_trgm', 'unaccent')"
    )
    assert sorted(rows) == [("pg_trgm",), ("unaccent",)]


def test_migrations_up_down_up(private_postgres):
    url = private_postgres.create_database("migrations")
    upgrade(url)
    upgrade(url)  # already at head: nothing to do
    assert query(private_postgres, "SELECT version_num FROM catalog.alembic_version", "migrations") == [
        ("0003",)
    ]
    assert query(private_postgres, "SELECT catalog.search_key('Pokémon GO')", "migrations") == [
        ("pokemon go",)
    ]
    downgrade(url, "0002")
    assert query(
        private_postgres,
        "SELECT to_regclass('catalog.name_suffixes') IS NULL,"
        " to_regclass('catalog.games_search_key_trgm') IS NOT NULL",
        "migrations",
    ) == [(True, True)]
    downgrade(url, "0001")
    assert query(
        private_postgres,
        "SELECT to_regclass('catalog.request_ids') IS NULL, to_regclass('catalog.games') IS NOT NULL",
        "migrations",
    ) == [(True, True)]
    upgrade(url)
    downgrade(url, "base")
    assert query(private_postgres, "SELECT to_regclass('catalog.games') IS NULL", "migrations") == [(True,)]
    upgrade(url)


def test_never_the_system_server(private_postgres):
    assert private_postgres.port != 5432
    assert query(private_postgres, "SHOW data_directory")[0][0] == str(private_postgres.data_dir)


def test_fixed_port_is_honoured(private_postgres):
    port = private_postgres.port
    private_postgres.stop()
    again = LocalPostgres(private_postgres.data_dir, port=port)
    with again:
        assert again.port == port
        assert query(again, "SELECT 1") == [(1,)]
