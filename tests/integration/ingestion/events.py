"""S3 event notifications by hand, a scripted handler for them, and what the consumer counted and left."""

from __future__ import annotations

import json

from prometheus_client import REGISTRY

from ingestion.model import EventOutcome

DONE, RETRY = EventOutcome.DONE, EventOutcome.RETRY


def count(outcome: str) -> float:
    """ingestion_sqs_messages_total{outcome} in this process's registry."""
    return REGISTRY.get_sample_value("ingestion_sqs_messages_total", {"outcome": outcome}) or 0.0


class Handler:
    """A `handle` that records its calls and answers from a script (DONE when the script runs out)."""

    def __init__(self, *answers: EventOutcome | Exception) -> None:
        self.calls: list[tuple[str, str]] = []
        self._answers = list(answers)

    def __call__(self, bucket: str, key: str) -> EventOutcome:
        self.calls.append((bucket, key))
        answer = self._answers.pop(0) if self._answers else DONE
        if isinstance(answer, Exception):
            raise answer
        return answer


def messages_left(sqs_client, queue_url: str) -> int:
    """Messages in the queue, visible or in flight."""
    attributes = sqs_client.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def s3_event(bucket: str, *keys: str, event_name: str = "ObjectCreated:Put") -> str:
    """An S3 event notification as S3 writes it (keys already form-encoded by the caller)."""
    return json.dumps(
        {
            "Records": [
                {
                    "eventVersion": "2.1",
                    "eventSource": "aws:s3",
                    "awsRegion": "us-east-1",
                    "eventName": event_name,
                    "s3": {
                        "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                        "object": {"key": key, "size": 2, "eTag": "d751713988987e9331980363e24189ce"},
                    },
                }
                for key in keys
            ]
        }
    )
