"""S3 events through the real runner: foreign objects, rejected files, and poison messages' dead letters.

moto's S3 and SQS over HTTP (with a real redrive policy), real PostgreSQL, the real catalog.
"""

from __future__ import annotations

import logging
import uuid

import pytest

from gamectl.s3local import LocalS3
from games.catalog.v1 import catalog_pb2_grpc as cpb_grpc
from ingestion.app import IngestionApp
from ingestion.sources.sqs_events import SqsConsumer
from tests.factories.deliveries import app, delivery
from tests.fixtures.eventually import eventually
from tests.integration.ingestion.conftest import Put, all_games
from tests.integration.ingestion.events import RETRY, Handler, count, messages_left, s3_event


def test_an_event_for_another_bucket_or_prefix_is_counted_deleted_and_never_imported(
    build_ingestion_app, catalog, bucket, s3_client, sqs_client, queue_url, gateway, caplog
) -> None:
    ingestion: IngestionApp = build_ingestion_app(
        bucket=bucket, catalog_target=catalog.target, s3_prefix="deliveries/"
    )
    # Another bucket ingestion's credentials can read, holding a perfectly good delivery.
    other = f"elsewhere-{uuid.uuid4().hex[:8]}"
    s3_client.create_bucket(Bucket=other)
    s3_client.put_object(Bucket=other, Key="deliveries/ios.top100.json", Body=delivery([[app(1)]]))
    s3_client.put_object(Bucket=bucket, Key="outside/ios.top100.json", Body=delivery([[app(2)]]))
    sqs_client.send_message(QueueUrl=queue_url, MessageBody=s3_event(other, "deliveries/ios.top100.json"))
    sqs_client.send_message(QueueUrl=queue_url, MessageBody=s3_event(bucket, "outside/ios.top100.json"))
    consumer = SqsConsumer(
        queue_url=queue_url, sqs=sqs_client, handle=ingestion.runner.run_object, wait_seconds=0
    )
    foreign = count("foreign")

    with caplog.at_level(logging.WARNING, logger="ingestion.runs.runner"):
        while consumer.poll_once():
            pass

    assert count("foreign") == foreign + 2
    assert messages_left(sqs_client, queue_url) == 0, "deleted, never to come back"
    assert all_games(gateway) == []
    assert ingestion.ledger.list_files().items == []
    assert ingestion.ledger.list_runs().items == [], "not even a run is started for it"
    assert caplog.text.count("outside the configured bucket and prefix") == 2


def test_the_event_of_a_rejected_file_is_deleted(
    ingestion: IngestionApp,
    bucket: str,
    put: Put,
    sqs_client,
    queue_url,
    gateway: cpb_grpc.CatalogServiceStub,
) -> None:
    put("2026-12-04/ios.top100.json", b"<html>export failed</html>")
    sqs_client.send_message(QueueUrl=queue_url, MessageBody=s3_event(bucket, "2026-12-04/ios.top100.json"))
    consumer = SqsConsumer(
        queue_url=queue_url, sqs=sqs_client, handle=ingestion.runner.run_object, wait_seconds=0
    )
    handled = count("handled")

    assert consumer.poll_once() == 1

    assert count("handled") == handled + 1
    assert messages_left(sqs_client, queue_url) == 0
    (entry,) = ingestion.ledger.list_files().items
    assert entry.state.value == "rejected"
    assert entry.reject_reason.startswith("not JSON")


@pytest.mark.slow
def test_a_message_that_keeps_failing_goes_to_the_dead_letter_queue(
    moto_server: LocalS3, sqs_client, bucket: str
) -> None:
    name = f"events-{uuid.uuid4().hex[:8]}"
    queue = moto_server.create_queue(name, max_receive_count=2)
    dead = sqs_client.get_queue_url(QueueName=f"{name}-dead-letter")["QueueUrl"]
    sqs_client.send_message(QueueUrl=queue, MessageBody=s3_event(bucket, "ios.top100.json"))
    handle = Handler(*[RETRY] * 10)
    consumer = SqsConsumer(
        queue_url=queue, sqs=sqs_client, handle=handle, wait_seconds=0, visibility_timeout=1
    )

    def dead_lettered() -> bool:
        consumer.poll_once()
        return messages_left(sqs_client, dead) == 1

    eventually(dead_lettered, timeout=20, interval=0.05, what="the message moved to the dead-letter queue")

    assert len(handle.calls) == 2, "handled maxReceiveCount times, then never again"
    assert messages_left(sqs_client, queue) == 0


def test_a_queue_without_a_dead_letter_queue_is_said_at_start(sqs_client, queue_url, caplog) -> None:
    consumer = SqsConsumer(queue_url=queue_url, sqs=sqs_client, handle=Handler(), wait_seconds=0)
    with caplog.at_level(logging.WARNING, logger="ingestion.sources.sqs_events"):
        consumer.start()
        consumer.stop(timeout=10)
    assert "the event queue has no redrive policy" in caplog.text
