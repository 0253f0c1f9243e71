import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from catalog.model import GameUpdate, ImportSource, ImportState
from gamekit.errors import InvalidArgument, NotFound
from tests.fixtures.postgres import make_fields

SOURCE = ImportSource(bucket="deliveries", key="2024-05-01/ios.top100.json", etag='"abc"')


def game_count(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM catalog.games")).scalar_one()


def by_store_id(service):
    return {
        g.fields.store_id: g for g in service.list_games(platform=None, page_size=1000, page_token="").items
    }


def test_counts_created_updated_unchanged(catalog_service):
    first = catalog_service.import_games(SOURCE, [[make_fields(n) for n in range(5)]])
    assert (first.received_count, first.created_count, first.updated_count, first.unchanged_count) == (
        5,
        5,
        0,
        0,
    )
    assert first.state is ImportState.PUBLISHED
    assert first.revision == catalog_service.current_revision()

    games = by_store_id(catalog_service)
    assert {g.last_import_id for g in games.values()} == {first.id}
    second_batch = [
        make_fields(0),
        make_fields(1, rating=1.0),
        make_fields(2, display_name="Renamed"),
        make_fields(7),
    ]
    second = catalog_service.import_games(
        ImportSource("deliveries", "2024-05-02/ios.top100.json", '"def"'), [second_batch]
    )
    assert (second.received_count, second.created_count, second.updated_count, second.unchanged_count) == (
        4,
        1,
        2,
        1,
    )
    after = by_store_id(catalog_service)
    assert after["store-0"] == games["store-0"]  # unchanged: same etag, same last import
    assert after["store-1"].etag != games["store-1"].etag
    assert after["store-1"].last_import_id == second.id
    assert after["store-2"].fields.display_name == "Renamed"
    # Games the file does not mention stay.
    assert {"store-3", "store-4"} <= set(after)


def test_duplicates_keep_the_best_rank(catalog_service):
    batches = [
        [make_fields(1, best_rank=40, display_name="Rank 40"), make_fields(2, best_rank=3)],
        [make_fields(1, best_rank=7, display_name="Rank 7"), make_fields(1, best_rank=9)],
    ]
    record = catalog_service.import_games(SOURCE, batches)
    assert (record.received_count, record.created_count) == (4, 2)
    game = by_store_id(catalog_service)["store-1"]
    assert (game.fields.best_rank, game.fields.display_name) == (7, "Rank 7")


def test_same_source_returns_the_same_import(catalog_service, catalog_engine):
    first = catalog_service.import_games(SOURCE, [[make_fields(1)]])
    revision = catalog_service.current_revision()
    again = catalog_service.import_games(SOURCE, [[make_fields(1, display_name="ignored"), make_fields(2)]])
    assert again == first
    assert catalog_service.current_revision() == revision
    assert game_count(catalog_engine) == 1
    # A new version of the same key is a new import.
    newer = catalog_service.import_games(ImportSource(SOURCE.bucket, SOURCE.key, '"v2"'), [[make_fields(2)]])
    assert newer.id != first.id


def test_concurrent_identical_imports_publish_once(catalog_service, catalog_engine):
    barrier = threading.Barrier(3)

    def run(_):
        barrier.wait()
        return catalog_service.import_games(SOURCE, [[make_fields(n) for n in range(50)]])

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(run, range(3)))
    assert len({r.id for r in results}) == 1
    assert len(catalog_service.list_imports(page_size=10, page_token="").items) == 1


def test_failing_stream_publishes_nothing(catalog_service, catalog_engine):
    catalog_service.create_game(make_fields(1), request_id=str(uuid.uuid4()))
    revision = catalog_service.current_revision()

    def stream():
        yield [make_fields(n, display_name=f"New {n}") for n in range(100)]
        raise ConnectionResetError("the caller went away")

    with pytest.raises(ConnectionResetError):
        catalog_service.import_games(SOURCE, stream())
    assert game_count(catalog_engine) == 1
    assert (
        catalog_service.get_game(by_store_id(catalog_service)["store-1"].id).fields.display_name == "Game 1"
    )
    assert catalog_service.list_imports(page_size=10, page_token="").items == []
    assert catalog_service.current_revision() == revision
    # The source was not consumed: it can be imported for real now.
    assert catalog_service.import_games(SOURCE, [[make_fields(1)]]).unchanged_count == 1


def test_invalid_game_fails_the_whole_import(catalog_service, catalog_engine):
    batches = [[make_fields(n) for n in range(10)], [make_fields(10), make_fields(11, display_name="\x00")]]
    with pytest.raises(InvalidArgument) as info:
        catalog_service.import_games(SOURCE, batches)
    assert [v.field for v in info.value.violations] == ["batch.games[1].display_name"]
    assert game_count(catalog_engine) == 0


def test_get_and_list_imports_newest_first(catalog_service):
    made = [
        catalog_service.import_games(ImportSource("b", f"k{n}", "e"), [[make_fields(n)]]) for n in range(5)
    ]
    assert catalog_service.get_import(made[2].id) == made[2]
    with pytest.raises(NotFound):
        catalog_service.get_import(999)
    first = catalog_service.list_imports(page_size=3, page_token="")
    second = catalog_service.list_imports(page_size=3, page_token=first.next_page_token)
    assert [i.id for i in first.items + second.items] == [m.id for m in reversed(made)]
    assert second.next_page_token == ""


def test_imports_without_a_source_are_not_deduplicated(catalog_service):
    one = catalog_service.import_games(ImportSource(), [[make_fields(1)]])
    two = catalog_service.import_games(ImportSource(), [[make_fields(1)]])
    assert one.id != two.id
    assert two.unchanged_count == 1


def test_user_edit_then_import_overwrites_and_records_prior(catalog_service):
    record = catalog_service.import_games(SOURCE, [[make_fields(1)]])
    game = by_store_id(catalog_service)["store-1"]
    catalog_service.update_game(GameUpdate(game.id, make_fields(1, rating=2.0), frozenset({"rating"})))
    again = catalog_service.import_games(ImportSource("b", "k2", "e"), [[make_fields(1)]])
    assert again.updated_count == 1
    assert catalog_service.get_game(game.id).fields.rating == 4.5
    assert record.id != again.id
