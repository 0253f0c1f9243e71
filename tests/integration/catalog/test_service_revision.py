import threading
import uuid

import pytest

from catalog.app import page_budget
from catalog.domain.service import CatalogService
from catalog.model import GameUpdate, ImportSource
from catalog.storage.database import make_engine
from catalog.storage.migrate import upgrade
from catalog.storage.revision import RevisionFeed
from gamekit.paging.tokens import PageTokens
from tests.fixtures.eventually import eventually
from tests.fixtures.postgres import make_fields

FEED_SECONDS = 15.0  # how long the feed may take to listen, notice a change or a lost database


def wait_listening(feed: RevisionFeed, healthy: bool = True) -> None:
    """Until the feed listens for changes (or, with `healthy=False`, knows it cannot)."""
    eventually(
        lambda: feed.healthy == healthy,
        timeout=FEED_SECONDS,
        interval=0.02,
        what="the revision feed listening" if healthy else "the revision feed knowing it cannot listen",
    )


def test_every_write_bumps_the_revision(catalog_service):
    revisions = [catalog_service.current_revision()]

    def step():
        revisions.append(catalog_service.current_revision())

    game = catalog_service.create_game(make_fields(1), request_id=str(uuid.uuid4()))
    step()
    catalog_service.update_game(GameUpdate(game.id, make_fields(1, rating=1.0), frozenset({"rating"})))
    step()
    catalog_service.delete_game(game.id)
    step()
    record = catalog_service.import_games(ImportSource("b", "k", "e"), [[make_fields(2)]])
    step()
    assert record.revision == revisions[-1]
    catalog_service.rollback_import(record.id)
    step()
    assert revisions == [0, 1, 2, 3, 4, 5]
    # Reads and refused writes do not.
    catalog_service.list_games(platform=None, page_size=0, page_token="")
    catalog_service.import_games(ImportSource("b", "k", "e"), [[make_fields(3)]])
    assert catalog_service.current_revision() == 5


def test_feed_fans_out_to_subscribers(catalog_service, revision_feed):
    wait_listening(revision_feed)
    subscribers = [revision_feed.subscribe() for _ in range(3)]
    assert subscribers[0].next(0.05) is None
    catalog_service.create_game(make_fields(1), request_id=str(uuid.uuid4()))
    assert [s.next(5.0) for s in subscribers] == [1, 1, 1]
    # Several writes between two calls collapse into the latest.
    for n in range(2, 5):
        catalog_service.create_game(make_fields(n), request_id=str(uuid.uuid4()))
    eventually(
        lambda: revision_feed.latest == 4,
        timeout=FEED_SECONDS,
        interval=0.02,
        what=lambda: f"the feed at revision 4; it is at {revision_feed.latest}",
    )
    assert subscribers[0].next(5.0) == 4
    for subscription in subscribers:
        subscription.close()


def test_watch_revision_yields_current_then_each_change(catalog_engine, revision_feed):
    service = CatalogService(
        engine=catalog_engine,
        revision_feed=revision_feed,
        page_tokens=PageTokens(b"k" * 32),
        page_budget=page_budget(),
    )
    wait_listening(revision_feed)
    active = threading.Event()
    active.set()
    stream = service.watch_revision(is_active=active.is_set, poll_seconds=0.05)
    assert next(stream) == 0
    service.create_game(make_fields(1), request_id=str(uuid.uuid4()))
    assert next(stream) == 1
    service.create_game(make_fields(2), request_id=str(uuid.uuid4()))
    assert next(stream) == 2
    active.clear()
    with pytest.raises(StopIteration):
        next(stream)


def test_feed_recovers_after_the_database_restarts(private_postgres):
    url = private_postgres.create_database("catalog")
    upgrade(url)
    engine = make_engine(url)
    feed = RevisionFeed(engine=engine, max_backoff=0.2)
    service = CatalogService(
        engine=engine, revision_feed=feed, page_tokens=PageTokens(b"k" * 32), page_budget=page_budget()
    )
    feed.start()
    try:
        wait_listening(feed)
        subscription = feed.subscribe()
        service.create_game(make_fields(1), request_id=str(uuid.uuid4()))
        assert subscription.next(5.0) == 1

        private_postgres.stop()
        wait_listening(feed, healthy=False)
        private_postgres.start()
        wait_listening(feed)
        service.create_game(make_fields(2), request_id=str(uuid.uuid4()))
        assert subscription.next(5.0) == 2
        subscription.close()
    finally:
        feed.stop()
        engine.dispose()
