"""The S3 event consumer against moto's server over HTTP: real buckets, real notifications, a real queue."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3  # type: ignore[import-untyped]
import pytest

from gamectl.s3local import LocalS3
from ingestion.model import EventOutcome
from ingestion.sources.sqs_events import SqsConsumer
from tests.fixtures.eventually import eventually
from tests.integration.ingestion.events import DONE, RETRY, Handler, count, messages_left, s3_event

SAMPLE_DATA = Path(__file__).resolve().parents[3] / "deploy" / "local" / "sample-data"


@pytest.fixture
def events_queue(moto_server: LocalS3, bucket: str, queue_url: str, sqs_client) -> str:
    """`queue_url`, receiving the bucket's ObjectCreated events; S3's test event already drained."""
    moto_server.enable_bucket_notifications(bucket, queue_url)
    drained = sqs_client.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    for message in drained.get("Messages", []):
        assert "s3:TestEvent" in message["Body"]
        sqs_client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return queue_url


@pytest.fixture
def make_consumer(sqs_client) -> Iterator[Callable[..., SqsConsumer]]:
    consumers: list[SqsConsumer] = []

    def make(queue_url: str, handle: Callable[[str, str], EventOutcome], **kwargs: int) -> SqsConsumer:
        kwargs.setdefault("wait_seconds", 1)
        consumer = SqsConsumer(queue_url=queue_url, sqs=sqs_client, handle=handle, **kwargs)
        consumers.append(consumer)
        return consumer

    yield make
    for consumer in consumers:
        consumer.stop(timeout=10)
        assert not consumer.running


def poll_until(consumer: SqsConsumer, done: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Poll SQS through `consumer`, as its thread would, until `done()` (each poll waits on SQS itself)."""

    def polled() -> bool:
        if not done():
            consumer.poll_once()
        return done()

    eventually(polled, timeout=timeout, interval=0, what=what)


def test_created_object_is_handled_then_its_message_deleted(
    s3_client, sqs_client, bucket, events_queue, make_consumer
):
    handle = Handler()
    consumer = make_consumer(events_queue, handle)
    handled_before = count("handled")

    s3_client.put_object(Bucket=bucket, Key="2026-11-22/ios.top100.json", Body=b"[]")
    poll_until(consumer, lambda: bool(handle.calls), "the created object handled")

    assert handle.calls == [(bucket, "2026-11-22/ios.top100.json")]
    assert count("handled") == handled_before + 1
    assert messages_left(sqs_client, events_queue) == 0


def test_s3_test_event_is_deleted_without_calling_the_handler(
    moto_server, sqs_client, bucket, queue_url, make_consumer
):
    handle = Handler()
    consumer = make_consumer(queue_url, handle)
    before = count("test_event")

    moto_server.enable_bucket_notifications(bucket, queue_url)  # S3 sends s3:TestEvent right away
    poll_until(consumer, lambda: count("test_event") > before, "S3's test event counted")

    assert handle.calls == []
    assert messages_left(sqs_client, queue_url) == 0


@pytest.mark.parametrize(
    "key",
    ["2026-11-23/ios top100.json", "2026-11-23/a+b.json", "2026-11-23/Pokémon café.json.gz"],
)
def test_url_encoded_keys_are_decoded(s3_client, bucket, events_queue, make_consumer, key):
    handle = Handler()
    consumer = make_consumer(events_queue, handle)

    s3_client.put_object(Bucket=bucket, Key=key, Body=b"[]")
    poll_until(consumer, lambda: bool(handle.calls), f"{key!r} handled")

    assert handle.calls == [(bucket, key)]
    # The handler gets a key it can read back as is.
    s3_client.head_object(Bucket=bucket, Key=handle.calls[0][1])


@pytest.mark.slow
def test_retry_leaves_the_message_to_come_back_after_the_visibility_timeout(
    s3_client, sqs_client, bucket, events_queue, make_consumer, caplog
):
    handle = Handler(RETRY)  # then DONE
    consumer = make_consumer(events_queue, handle, wait_seconds=0, visibility_timeout=1)
    retried_before, handled_before = count("retried"), count("handled")

    s3_client.put_object(Bucket=bucket, Key="2026-11-22/android.top100.json", Body=b"[]")
    with caplog.at_level(logging.WARNING, logger="ingestion.sources.sqs_events"):
        poll_until(consumer, lambda: bool(handle.calls), "the first delivery handled")
    assert count("retried") == retried_before + 1
    assert "a transient failure" in caplog.text
    assert messages_left(sqs_client, events_queue) == 1
    assert consumer.poll_once() == 0  # invisible until its visibility timeout ends

    poll_until(consumer, lambda: len(handle.calls) == 2, "the message delivered again and handled")

    assert handle.calls == [(bucket, "2026-11-22/android.top100.json")] * 2
    assert count("handled") == handled_before + 1
    assert messages_left(sqs_client, events_queue) == 0


@pytest.mark.slow
def test_an_exception_in_the_handler_is_logged_and_retried(
    s3_client, sqs_client, bucket, events_queue, make_consumer, caplog
):
    handle = Handler(RuntimeError("catalog unavailable"))
    consumer = make_consumer(events_queue, handle, wait_seconds=0, visibility_timeout=1)

    s3_client.put_object(Bucket=bucket, Key="k.json", Body=b"[]")
    with caplog.at_level(logging.WARNING, logger="ingestion.sources.sqs_events"):
        poll_until(consumer, lambda: bool(handle.calls), "the first delivery handled")
    assert "RuntimeError: catalog unavailable" in caplog.text
    assert messages_left(sqs_client, events_queue) == 1

    poll_until(consumer, lambda: len(handle.calls) == 2, "the message delivered again and handled")
    assert messages_left(sqs_client, events_queue) == 0


@pytest.mark.slow
def test_a_message_is_deleted_only_when_every_record_in_it_was_handled(
    sqs_client, bucket, queue_url, make_consumer
):
    handle = Handler(DONE, RETRY)  # the second record fails the first time
    consumer = make_consumer(queue_url, handle, wait_seconds=0, visibility_timeout=1)
    sqs_client.send_message(QueueUrl=queue_url, MessageBody=s3_event(bucket, "a.json", "b.json"))

    poll_until(consumer, lambda: len(handle.calls) == 2, "both records handled once")
    assert messages_left(sqs_client, queue_url) == 1

    poll_until(consumer, lambda: len(handle.calls) == 4, "the message delivered again and both handled")
    assert handle.calls == [(bucket, "a.json"), (bucket, "b.json")] * 2
    assert messages_left(sqs_client, queue_url) == 0


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        "[1, 2, 3]",
        '{"hello": "world"}',
        '{"Records": []}',
        '{"Records": [{"eventSource": "aws:sqs", "eventName": "ObjectCreated:Put"}]}',
        '{"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {}}]}',
        '{"Type": "Notification", "Message": "not json"}',
        '{"Type": "SubscriptionConfirmation", "Message": "confirm me"}',
    ],
    ids=["text", "array", "object", "no-records", "not-s3", "no-key", "sns-garbage", "sns-confirmation"],
)
def test_malformed_messages_are_deleted_and_counted(sqs_client, queue_url, make_consumer, body, caplog):
    handle = Handler()
    consumer = make_consumer(queue_url, handle)
    before = count("malformed")
    sqs_client.send_message(QueueUrl=queue_url, MessageBody=body)

    with caplog.at_level(logging.WARNING, logger="ingestion.sources.sqs_events"):
        poll_until(consumer, lambda: count("malformed") > before, "the malformed message counted")

    assert count("malformed") == before + 1
    assert handle.calls == []
    assert "malformed" in caplog.text
    assert messages_left(sqs_client, queue_url) == 0


def test_events_other_than_object_creation_are_deleted_as_ignored(
    sqs_client, bucket, queue_url, make_consumer
):
    handle = Handler()
    consumer = make_consumer(queue_url, handle)
    before = count("ignored")
    sqs_client.send_message(
        QueueUrl=queue_url, MessageBody=s3_event(bucket, "old.json", event_name="ObjectRemoved:Delete")
    )

    poll_until(consumer, lambda: count("ignored") > before, "the removal event counted as ignored")

    assert handle.calls == []
    assert messages_left(sqs_client, queue_url) == 0


def test_sns_wrapped_notifications(
    aws_env, moto_server, s3_client, sqs_client, bucket, queue_url, make_consumer
):
    # The real path: S3 -> SNS topic -> SQS subscription, which wraps each event in an SNS envelope.
    sns = boto3.session.Session().client("sns", endpoint_url=moto_server.endpoint)
    try:
        topic = sns.create_topic(Name=f"deliveries-{uuid.uuid4().hex[:8]}")["TopicArn"]
        queue_arn = sqs_client.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    finally:
        sns.close()
    s3_client.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "TopicConfigurations": [{"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]
        },
    )
    handle = Handler()
    consumer = make_consumer(queue_url, handle)

    s3_client.put_object(Bucket=bucket, Key="2026-11-23/ios top100.json.gz", Body=b"x")
    poll_until(consumer, lambda: bool(handle.calls), "the object handled through SNS")

    assert handle.calls == [(bucket, "2026-11-23/ios top100.json.gz")]
    assert messages_left(sqs_client, queue_url) == 0


def test_sns_wrapped_by_hand(sqs_client, bucket, queue_url, make_consumer):
    envelope = {"Type": "Notification", "TopicArn": "arn:aws:sns:us-east-1:123456789012:t"}
    envelope["Message"] = s3_event(bucket, "2026-11-23/android+top100.json")
    sqs_client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(envelope))
    handle = Handler()
    consumer = make_consumer(queue_url, handle)

    poll_until(consumer, lambda: bool(handle.calls), "the SNS envelope's object handled")

    assert handle.calls == [(bucket, "2026-11-23/android top100.json")]


def test_thread_handles_seeded_sample_deliveries_and_stops(
    moto_server, sqs_client, bucket, events_queue, make_consumer
):
    handle = Handler()
    consumer = make_consumer(events_queue, handle)
    consumer.start()
    assert consumer.running

    keys = moto_server.seed(bucket, SAMPLE_DATA, prefix="deliveries/")
    eventually(
        lambda: len(handle.calls) == len(keys),
        timeout=20,
        interval=0.05,
        what=lambda: f"the consumer's thread handling {len(keys)} deliveries; {len(handle.calls)} handled",
    )

    assert sorted(handle.calls) == sorted((bucket, key) for key in keys)
    assert "deliveries/2026-11-23/ios.top100.json.gz" in keys
    assert all(not key.endswith(".md") for key in keys)
    consumer.stop(timeout=10)
    assert not consumer.running


@pytest.mark.slow
def test_thread_survives_sqs_going_away_and_coming_back(moto_server, sqs_client, make_consumer, caplog):
    name = f"events-{uuid.uuid4().hex[:8]}"
    queue_url = moto_server.create_queue(name)
    handle = Handler()
    consumer = make_consumer(queue_url, handle)
    with caplog.at_level(logging.WARNING, logger="ingestion.sources.sqs_events"):
        consumer.start()
        moto_server.stop()
        eventually(
            lambda: "receiving from SQS failed" in caplog.text,
            timeout=20,
            interval=0.05,
            what="the consumer logging that SQS is gone",
        )
        moto_server.start()  # empty again: the queue has to be created anew (same name, same URL)
        assert moto_server.create_queue(name) == queue_url
        sqs_client.send_message(QueueUrl=queue_url, MessageBody=s3_event("bucket", "after.json"))
        eventually(lambda: handle.calls, timeout=60, interval=0.05, what="the message sent after it handled")

    assert consumer.running
    assert handle.calls == [("bucket", "after.json")]


def test_bad_settings_are_refused(sqs_client):
    with pytest.raises(ValueError, match="wait_seconds"):
        SqsConsumer(queue_url="q", sqs=sqs_client, handle=Handler(), wait_seconds=21)
    with pytest.raises(ValueError, match="visibility_timeout"):
        SqsConsumer(queue_url="q", sqs=sqs_client, handle=Handler(), visibility_timeout=-1)
