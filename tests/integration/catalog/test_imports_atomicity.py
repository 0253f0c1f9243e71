import threading

from sqlalchemy import text

from catalog.model import ImportSource
from tests.fixtures.postgres import make_fields

TOTAL = 100_000
BATCH = 5_000
STATE = (
    "SELECT count(*), coalesce(sum(best_rank), 0), count(*) FILTER (WHERE display_name LIKE 'v2 %') "
    "FROM catalog.games"
)


def test_readers_see_the_old_or_the_new_catalog_never_a_mix(catalog_service, catalog_engine):
    catalog_service.import_games(ImportSource("b", "old", "1"), [[make_fields(n) for n in range(1000)]])
    with catalog_engine.connect() as conn:
        old_state = tuple(conn.execute(text(STATE)).one())

    observed: set[tuple[int, int, int]] = set()
    stop = threading.Event()

    def read():
        with catalog_engine.connect() as conn:
            while not stop.is_set():
                observed.add(tuple(conn.execute(text(STATE)).one()))
                conn.rollback()

    def stream():
        for start in range(0, TOTAL, BATCH):
            yield [
                make_fields(n, display_name=f"v2 {n}", best_rank=n + 2) for n in range(start, start + BATCH)
            ]

    reader = threading.Thread(target=read)
    reader.start()
    try:
        record = catalog_service.import_games(ImportSource("b", "new", "1"), stream())
    finally:
        stop.set()
        reader.join()
    with catalog_engine.connect() as conn:
        new_state = tuple(conn.execute(text(STATE)).one())

    assert (record.created_count, record.updated_count, record.unchanged_count) == (TOTAL - 1000, 1000, 0)
    assert new_state[0] == TOTAL
    assert new_state[2] == TOTAL
    assert old_state in observed
    assert observed <= {old_state, new_state}
