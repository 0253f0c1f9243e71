import uuid

import pytest

from catalog.model import GameUpdate, ImportSource, ImportState
from gamekit.errors import FailedPrecondition, NotFound
from tests.fixtures.postgres import make_fields


def snapshot(service):
    return {
        g.fields.store_id: g for g in service.list_games(platform=None, page_size=1000, page_token="").items
    }


@pytest.fixture
def base(catalog_service):
    catalog_service.import_games(ImportSource("b", "day1", "e"), [[make_fields(n) for n in range(4)]])
    return snapshot(catalog_service)


def test_rollback_restores_updated_and_removes_created(catalog_service, base):
    day2 = catalog_service.import_games(
        ImportSource("b", "day2", "e"),
        [
            [
                make_fields(0),
                make_fields(1, display_name="Changed"),
                make_fields(2, rating=1.0),
                make_fields(9),
            ]
        ],
    )
    assert (day2.created_count, day2.updated_count) == (1, 2)
    revision = catalog_service.current_revision()

    rolled = catalog_service.rollback_import(day2.id)
    assert rolled.state is ImportState.ROLLED_BACK
    assert rolled.rollback_time is not None
    assert rolled.revision == day2.revision
    assert catalog_service.current_revision() == revision + 1
    assert snapshot(catalog_service) == base  # prior images exactly, etags included
    assert catalog_service.get_import(day2.id) == rolled


def test_rollback_is_refused_twice(catalog_service, base):
    day2 = catalog_service.import_games(ImportSource("b", "day2", "e"), [[make_fields(1, rating=2.0)]])
    catalog_service.rollback_import(day2.id)
    with pytest.raises(FailedPrecondition) as info:
        catalog_service.rollback_import(day2.id)
    assert info.value.reason == "IMPORT_ALREADY_ROLLED_BACK"
    with pytest.raises(NotFound):
        catalog_service.rollback_import(12345)


def test_rollback_is_refused_when_a_game_changed_since(catalog_service, base):
    day2 = catalog_service.import_games(
        ImportSource("b", "day2", "e"),
        [[make_fields(1, rating=2.0), make_fields(2, rating=2.0), make_fields(8)]],
    )
    edited = snapshot(catalog_service)["store-1"]
    catalog_service.update_game(GameUpdate(edited.id, make_fields(1, rating=3.0), frozenset({"rating"})))
    catalog_service.delete_game(snapshot(catalog_service)["store-8"].id)
    before = snapshot(catalog_service)
    with pytest.raises(FailedPrecondition) as info:
        catalog_service.rollback_import(day2.id)
    assert info.value.reason == "IMPORT_SUPERSEDED"
    assert "2 game(s)" in info.value.message
    assert snapshot(catalog_service) == before
    assert catalog_service.get_import(day2.id).state is ImportState.PUBLISHED


def test_later_import_blocks_then_unblocks_after_its_own_rollback(catalog_service, base):
    day2 = catalog_service.import_games(
        ImportSource("b", "day2", "e"), [[make_fields(1, rating=2.0), make_fields(7)]]
    )
    day3 = catalog_service.import_games(
        ImportSource("b", "day3", "e"), [[make_fields(1, rating=3.0), make_fields(7, rating=1.0)]]
    )
    with pytest.raises(FailedPrecondition):
        catalog_service.rollback_import(day2.id)
    catalog_service.rollback_import(day3.id)
    catalog_service.rollback_import(day2.id)
    assert snapshot(catalog_service) == base


def test_rollback_of_a_game_created_by_a_user_meanwhile_is_unaffected(catalog_service, base):
    day2 = catalog_service.import_games(ImportSource("b", "day2", "e"), [[make_fields(5)]])
    user_game = catalog_service.create_game(make_fields(6), request_id=str(uuid.uuid4()))
    catalog_service.rollback_import(day2.id)
    after = snapshot(catalog_service)
    assert "store-5" not in after
    assert after["store-6"] == user_game
