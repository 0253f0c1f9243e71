import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from catalog.model import GameUpdate, Platform
from catalog.storage import tables
from gamekit.errors import Aborted, AlreadyExists, InvalidArgument, NotFound
from tests.fixtures.postgres import make_fields


def rid() -> str:
    return str(uuid.uuid4())


def count_games(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(tables.games)).scalar_one()


def test_create_get_update_delete(catalog_service):
    created = catalog_service.create_game(make_fields(1, display_name="Pokémon GO"), request_id=rid())
    assert created.id > 0
    assert created.etag
    assert created.last_import_id is None
    assert catalog_service.get_game(created.id) == created

    updated = catalog_service.update_game(
        GameUpdate(created.id, make_fields(1, rating=3.0), frozenset({"rating"}), etag=created.etag)
    )
    assert updated.fields.rating == 3.0
    assert updated.etag != created.etag
    assert updated.update_time >= created.update_time

    catalog_service.delete_game(created.id, etag=updated.etag)
    with pytest.raises(NotFound):
        catalog_service.get_game(created.id)
    with pytest.raises(NotFound):
        catalog_service.delete_game(created.id)
    with pytest.raises(NotFound):
        catalog_service.update_game(GameUpdate(created.id, make_fields(1), frozenset({"rating"})))


def test_round_trip_of_every_field(catalog_service):
    fields = make_fields(
        2,
        platform=Platform.ANDROID,
        publisher_id="p1",
        app_version="1.2.3",
        is_published=False,
        release_time=datetime(2016, 7, 6, tzinfo=UTC),
        store_update_time=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        categories=("Games", "Adventure"),
        icon_uri="https://example.com/icon.png",
        store_uri="https://play.google.com/x",
        price=0.99,
        in_app_purchases=True,
    )
    game = catalog_service.create_game(fields, request_id=rid())
    assert catalog_service.get_game(game.id).fields == fields


def test_stale_etag_is_aborted(catalog_service):
    game = catalog_service.create_game(make_fields(1), request_id=rid())
    catalog_service.update_game(GameUpdate(game.id, make_fields(1, rating=1.0), frozenset({"rating"})))
    with pytest.raises(Aborted) as info:
        catalog_service.update_game(
            GameUpdate(game.id, make_fields(1, rating=2.0), frozenset({"rating"}), etag=game.etag)
        )
    assert info.value.reason == "ETAG_MISMATCH"
    with pytest.raises(Aborted):
        catalog_service.delete_game(game.id, etag=game.etag)
    assert catalog_service.get_game(game.id).fields.rating == 1.0


def test_update_mask_is_honoured(catalog_service):
    game = catalog_service.create_game(make_fields(1, display_name="Old", rating=4.0), request_id=rid())
    new_values = make_fields(1, display_name="New", rating=1.0, bundle_id="changed", categories=())
    updated = catalog_service.update_game(GameUpdate(game.id, new_values, frozenset({"display_name"})))
    assert updated.fields.display_name == "New"
    assert updated.fields.rating == 4.0
    assert updated.fields.bundle_id == game.fields.bundle_id
    assert updated.fields.categories == ("Games",)
    with pytest.raises(InvalidArgument) as info:
        catalog_service.update_game(GameUpdate(game.id, new_values, frozenset({"platform"})))
    assert info.value.violations[0].field == "update_mask"
    with pytest.raises(InvalidArgument):
        catalog_service.update_game(GameUpdate(game.id, new_values, frozenset()))


def test_create_is_idempotent_by_request_id_of_a_caller(catalog_service, catalog_engine):
    request_id = rid()
    first = catalog_service.create_game(make_fields(1), request_id=request_id, caller="alice")
    assert catalog_service.create_game(make_fields(1), request_id=request_id, caller="alice") == first
    with pytest.raises(InvalidArgument) as reused:
        catalog_service.create_game(make_fields(99), request_id=request_id, caller="alice")
    assert reused.value.reason == "REQUEST_ID_REUSED"
    assert [v.field for v in reused.value.violations] == ["request_id"]
    other = catalog_service.create_game(make_fields(99), request_id=request_id, caller="bob")
    assert other.id != first.id
    assert count_games(catalog_engine) == 2
    with pytest.raises(InvalidArgument) as info:
        catalog_service.create_game(make_fields(2), request_id="not-a-uuid")
    assert info.value.violations[0].field == "request_id"


def test_concurrent_retries_of_one_create_make_one_game(catalog_service, catalog_engine):
    request_id = rid()
    barrier = threading.Barrier(4)

    def create(_):
        barrier.wait()
        return catalog_service.create_game(make_fields(1), request_id=request_id)

    with ThreadPoolExecutor(4) as pool:
        games = list(pool.map(create, range(4)))
    assert len({game.id for game in games}) == 1
    assert count_games(catalog_engine) == 1


def test_duplicate_store_id_is_already_exists(catalog_service, catalog_engine):
    catalog_service.create_game(make_fields(1), request_id=rid())
    with pytest.raises(AlreadyExists) as info:
        catalog_service.create_game(make_fields(1, display_name="Copy"), request_id=rid())
    assert "store-1" in info.value.message
    assert "INSERT" not in info.value.message
    # The same store id on the other platform is another game.
    catalog_service.create_game(make_fields(1, platform=Platform.ANDROID), request_id=rid())
    assert count_games(catalog_engine) == 2
    # The failed create left no request id behind: retrying it after fixing the input works.
    with catalog_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM catalog.request_ids")).scalar_one() == 2


@pytest.mark.parametrize(
    "overrides",
    [
        {"display_name": "x" * 1_000_000},
        {"publisher_name": "bad\x00name"},
        {"categories": ("ok", "nul\x00")},
        {"store_id": ""},
        {"icon_uri": "javascript:alert(1)"},
    ],
)
def test_invalid_input_writes_nothing(catalog_service, catalog_engine, overrides):
    before = catalog_service.current_revision()
    with pytest.raises(InvalidArgument):
        catalog_service.create_game(make_fields(1, **overrides), request_id=rid())
    game = catalog_service.create_game(make_fields(2), request_id=rid())
    if "store_id" not in overrides:  # store_id is immutable; the mask check covers it
        with pytest.raises(InvalidArgument):
            catalog_service.update_game(
                GameUpdate(game.id, make_fields(2, **overrides), frozenset(overrides))
            )
    assert count_games(catalog_engine) == 1
    assert catalog_service.get_game(game.id) == game
    assert catalog_service.current_revision() == before + 1


@pytest.mark.parametrize("game_id", [0, -1, 2**63, 2**80])
def test_ids_out_of_range_are_not_found(catalog_service, game_id):
    with pytest.raises(NotFound):
        catalog_service.get_game(game_id)
    with pytest.raises(NotFound):
        catalog_service.delete_game(game_id)
    with pytest.raises(NotFound):
        catalog_service.get_import(game_id)
    with pytest.raises(NotFound):
        catalog_service.rollback_import(game_id)
