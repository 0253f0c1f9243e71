"""S3 event notifications read from SQS: each created object is handed to ingestion, at least once.

S3 (directly, or through an SNS topic) puts one message per event on the queue. For every
`ObjectCreated:*` record the consumer calls `handle(bucket, key)`, and deletes the message once every
record in it was handled: imported, skipped, rejected (a rejected file is never taken again, so its
event is done) or not ours. On `EventOutcome.RETRY` or an exception it leaves the message: SQS makes it
visible again after the visibility timeout and it is retried; the ledger makes the second attempt of
an already imported object a skip, so retrying a whole message is safe. For the same reason a handler
slower than the visibility timeout is harmless: the message reappears and another replica may take
it, and the ledger lets only one of them import the file. A message that keeps failing goes to the
queue's dead-letter queue after its `maxReceiveCount` deliveries (the queue's redrive policy).

An event names its own bucket, and is not believed: an object outside the configured bucket and
prefix is never imported; its message is counted as `foreign` and deleted. Messages that will never
succeed are deleted too, or they would come back forever: S3's `s3:TestEvent` (sent when
notifications are configured), events other than object creation, and malformed messages (not JSON,
not an S3 event). Each outcome is counted in `ingestion_sqs_messages_total{outcome}`.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, get_args

from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from prometheus_client import Counter

from ingestion.model import EventOutcome
from ingestion.sources.event_messages import MalformedMessage, parse_message

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

_log = logging.getLogger(__name__)

Outcome = Literal["handled", "retried", "malformed", "test_event", "ignored", "foreign"]

MESSAGES = Counter(
    "ingestion_sqs_messages_total",
    "SQS messages taken off the event queue, by what became of them.",
    ["outcome"],
)
for _outcome in get_args(Outcome):
    MESSAGES.labels(_outcome)  # export every outcome at 0 so rate() and alerts see the series at once

MAX_MESSAGES_PER_RECEIVE = 10  # SQS's own limit
BACKOFF_INITIAL_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0
_BODY_EXCERPT_CHARS = 200


class SqsConsumer:
    """Long-polls an SQS queue of S3 events on a daemon thread and hands each created object to `handle`."""

    def __init__(
        self,
        *,
        queue_url: str,
        sqs: SQSClient,
        handle: Callable[[str, str], EventOutcome],
        wait_seconds: int = 10,
        visibility_timeout: int | None = None,
    ) -> None:
        if not 0 <= wait_seconds <= 20:
            raise ValueError(f"wait_seconds must be between 0 and 20 (SQS's limit), not {wait_seconds}")
        if visibility_timeout is not None and not 0 <= visibility_timeout <= 43_200:
            raise ValueError(f"visibility_timeout must be between 0 and 43200, not {visibility_timeout}")
        self._queue_url = queue_url
        self._sqs = sqs
        self._handle = handle
        self._wait_seconds = wait_seconds
        self._visibility_timeout = visibility_timeout
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """Whether the polling thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start polling on a daemon thread; does nothing when already running."""
        if self.running:
            return
        self._check_redrive_policy()
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="sqs-consumer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop polling; wait up to `timeout` s for the current long poll and message to finish."""
        self._stopping.set()
        thread = self._thread
        if thread is None:
            return
        thread.join(timeout)
        if thread.is_alive():
            # A daemon thread: it cannot keep the process alive, and it stops after the current message.
            _log.warning("the SQS consumer did not stop within %.1f s", timeout)
            return
        self._thread = None

    def poll_once(self) -> int:
        """Receive one batch (waiting up to wait_seconds), process it, and say how many messages it took."""
        # Every message taken counts, whatever its outcome (see `ingestion_sqs_messages_total`). Botocore
        # errors of the receive propagate; the polling thread backs off and retries them.
        request: dict[str, Any] = {
            "QueueUrl": self._queue_url,
            "MaxNumberOfMessages": MAX_MESSAGES_PER_RECEIVE,
            "WaitTimeSeconds": self._wait_seconds,
            "MessageSystemAttributeNames": ["ApproximateReceiveCount"],
        }
        if self._visibility_timeout is not None:
            request["VisibilityTimeout"] = self._visibility_timeout
        processed = 0
        for message in self._sqs.receive_message(**request).get("Messages", []):
            if self._stopping.is_set():
                break  # the rest come back after their visibility timeout, to this or another replica
            self._process(message)
            processed += 1
        return processed

    # --- internals ---

    def _check_redrive_policy(self) -> None:
        """Say once at start when the queue has no dead-letter queue: a poison message would loop."""
        try:
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=self._queue_url, AttributeNames=["RedrivePolicy"]
            ).get("Attributes", {})
        except (BotoCoreError, ClientError) as exc:
            _log.warning("cannot read the event queue's redrive policy: %s", exc)
            return
        if "RedrivePolicy" not in attributes:
            _log.warning(
                "the event queue has no redrive policy: a message that keeps failing comes back forever; "
                "give it a dead-letter queue (see the chart's README)",
                extra={"fields": {"queue": self._queue_url}},
            )

    def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                self.poll_once()
                failures = 0
            except (BotoCoreError, ClientError) as exc:
                failures += 1
                delay = _backoff(failures)
                _log.warning(
                    "receiving from SQS failed (%d in a row), retrying in %.1f s: %s", failures, delay, exc
                )
                self._stopping.wait(delay)
            except Exception:
                # The thread is the only consumer of the queue: it must outlive any surprise.
                failures += 1
                _log.exception("unexpected error in the SQS consumer; continuing")
                self._stopping.wait(_backoff(failures))

    def _process(self, message: MessageTypeDef) -> None:
        fields = {
            "sqs_message_id": message.get("MessageId", ""),
            "sqs_receive_count": message.get("Attributes", {}).get("ApproximateReceiveCount", ""),
        }
        try:
            event = parse_message(message.get("Body", ""))
        except MalformedMessage as exc:
            excerpt = message.get("Body", "")[:_BODY_EXCERPT_CHARS]
            _log.warning(
                "deleting a malformed SQS message: %s",
                exc.reason,
                extra={"fields": {**fields, "reason": exc.reason, "body_excerpt": excerpt}},
            )
            self._finish(message, "malformed")
            return
        if event.test_event:
            _log.info("deleting S3's test event", extra={"fields": fields})
            self._finish(message, "test_event")
            return
        if not event.objects:
            self._finish(message, "ignored")
            return
        outcomes: list[EventOutcome] = []
        for obj in event.objects:
            try:
                outcome = self._handle(obj.bucket, obj.key)
                error: Exception | None = None
            except Exception as exc:
                outcome, error = EventOutcome.RETRY, exc
            outcomes.append(outcome)
            if outcome is EventOutcome.RETRY:
                reason = "a transient failure" if error is None else f"{type(error).__name__}: {error}"
                _log.warning(
                    "s3://%s/%s not handled, leaving its message for a retry: %s",
                    obj.bucket,
                    obj.key,
                    reason,
                    exc_info=error,
                    extra={"fields": {**fields, "bucket": obj.bucket, "key": obj.key, "reason": reason}},
                )
                # The rest of the message waits for the retry too: handling is idempotent per object.
                MESSAGES.labels("retried").inc()
                return
        foreign = all(outcome is EventOutcome.FOREIGN for outcome in outcomes)
        self._finish(message, "foreign" if foreign else "handled")

    def _finish(self, message: MessageTypeDef, outcome: Outcome) -> None:
        MESSAGES.labels(outcome).inc()
        try:
            self._sqs.delete_message(QueueUrl=self._queue_url, ReceiptHandle=message["ReceiptHandle"])
        except (BotoCoreError, ClientError) as exc:
            # The message comes back after its visibility timeout; handling it again is a ledger skip.
            _log.warning("could not delete SQS message %s: %s", message.get("MessageId", ""), exc)


def _backoff(failures: int) -> float:
    """Seconds to wait after `failures` consecutive errors: tenacity's wait_exponential_jitter formula."""
    exponential = BACKOFF_INITIAL_SECONDS * 2.0 ** min(failures - 1, 16)
    return min(exponential + random.uniform(0, BACKOFF_INITIAL_SECONDS), BACKOFF_MAX_SECONDS)  # noqa: S311
