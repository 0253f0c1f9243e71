"""A local S3 and SQS: moto's server run as a subprocess on a loopback port.

Used by `gamectl up` (when no S3 endpoint is given) and by the test fixtures. Both services answer on the
one endpoint, so the same server carries bucket notifications to a queue. moto keeps everything in the
server process's memory: stopping the server loses every bucket, object and queue, and starting it again
(on the same port) begins empty.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

# No stubs are pinned for boto3/botocore; the mypy-boto3 client types below carry the checking.
import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

from gamectl.net import free_port
from gamectl.processes import ChildProcess

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

_log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 30.0
REGION = "us-east-1"
# moto accepts any credentials; fixed ones keep a developer's real AWS credentials away from it.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"  # noqa: S105 - moto's documented dummy credential


class LocalS3:
    """One moto server process: its endpoint, start/stop/reset, and helpers to seed it."""

    def __init__(self, *, port: int = 0, host: str = "127.0.0.1", region: str = REGION) -> None:
        self._host = host
        self._port = port
        self._region = region
        self._child: ChildProcess | None = None

    @property
    def port(self) -> int:
        """The TCP port; picked at the first start when it was 0, then kept across restarts."""
        return self._port

    @property
    def endpoint(self) -> str:
        """The HTTP endpoint for both S3 and SQS, such as http://127.0.0.1:PORT."""
        return f"http://{self._host}:{self._port}"

    @property
    def region(self) -> str:
        """The region clients should use."""
        return self._region

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._child is not None and self._child.running

    def start(self) -> None:
        """Start the server (empty: moto keeps no state across restarts) and wait until it answers."""
        if self.running:
            return
        if self._port == 0:
            self._port = free_port(self._host)
        # werkzeug logs every request: ChildProcess keeps that in a file, not in a pipe nobody reads.
        child = self._child = ChildProcess(
            [sys.executable, "-m", "moto.server", "-H", self._host, "-p", str(self._port)]
        )
        try:
            self._wait_ready(child)
        except Exception as exc:
            output = child.output_tail()
            self.stop()
            raise RuntimeError(f"moto server did not start on {self.endpoint}:\n{output}") from exc
        except BaseException:
            self.stop()  # Ctrl-C while waiting must not leave the server behind
            raise

    def stop(self) -> None:
        """Terminate the server; every bucket, object and queue it held is gone."""
        child, self._child = self._child, None
        if child is not None:
            child.stop()

    def reset(self) -> None:
        """Forget every bucket, object and queue without restarting (moto's /moto-api/reset)."""
        url = f"{self.endpoint}/moto-api/reset"
        request = urllib.request.Request(url, method="POST")  # noqa: S310 - our own http:// loopback URL
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()

    def s3_client(self) -> S3Client:
        """A boto3 S3 client of this server (close it when done)."""
        client: S3Client = self._client("s3")
        return client

    def sqs_client(self) -> SQSClient:
        """A boto3 SQS client of this server (close it when done)."""
        client: SQSClient = self._client("sqs")
        return client

    def seed(self, bucket: str, source_dir: Path, prefix: str = "") -> list[str]:
        """Create `bucket`; upload each file under `source_dir` (not *.md, not hidden) as prefix + path."""
        source_dir = Path(source_dir)
        keys: list[str] = []
        with contextlib.closing(self.s3_client()) as s3:
            self._ensure_bucket(s3, bucket)
            for path in sorted(p for p in source_dir.rglob("*") if p.is_file()):
                relative = path.relative_to(source_dir).as_posix()
                if relative.endswith(".md") or any(part.startswith(".") for part in relative.split("/")):
                    continue  # the README describing the samples is not a delivery
                key = f"{prefix}{relative}"
                # Bytes as they are: a .json.gz stays gzip, and readers gunzip it by its extension.
                s3.upload_file(str(path), bucket, key)
                keys.append(key)
        _log.info("seeded %d files into s3://%s/%s", len(keys), bucket, prefix)
        return keys

    def create_bucket(self, bucket: str) -> None:
        """Create `bucket` if it does not exist."""
        with contextlib.closing(self.s3_client()) as s3:
            self._ensure_bucket(s3, bucket)

    def create_queue(self, name: str, *, max_receive_count: int | None = None) -> str:
        """Create an SQS queue (if missing) and return its URL.

        With `max_receive_count`, a dead-letter queue `{name}-dead-letter` takes each message received
        that many times without being deleted, as the chart's README asks of the real queue.
        """
        with contextlib.closing(self.sqs_client()) as sqs:
            if max_receive_count is None:
                return sqs.create_queue(QueueName=name)["QueueUrl"]
            dead = sqs.create_queue(QueueName=f"{name}-dead-letter")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]
            policy = {"deadLetterTargetArn": arn["QueueArn"], "maxReceiveCount": str(max_receive_count)}
            created = sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": json.dumps(policy)})
            return created["QueueUrl"]

    def enable_bucket_notifications(self, bucket: str, queue_url: str) -> None:
        """Send an event to the queue for every object created in `bucket`."""
        with contextlib.closing(self.sqs_client()) as sqs:
            arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
        with contextlib.closing(self.s3_client()) as s3:
            s3.put_bucket_notification_configuration(
                Bucket=bucket,
                NotificationConfiguration={
                    "QueueConfigurations": [
                        {"Id": "ingestion", "QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}
                    ]
                },
            )

    def __enter__(self) -> LocalS3:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- internals ---

    def _client(self, service: Literal["s3", "sqs"]) -> Any:
        return boto3.session.Session().client(
            service,
            endpoint_url=self.endpoint,
            region_name=self._region,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            # Path style: a virtual-hosted bucket name would be looked up as a host under 127.0.0.1.
            config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
        )

    def _ensure_bucket(self, s3: S3Client, bucket: str) -> None:
        with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=bucket)

    def _wait_ready(self, child: ChildProcess) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while True:
            if not child.running:
                raise RuntimeError("moto server exited")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/", timeout=1) as response:  # noqa: S310
                    response.read()
                return
            except urllib.error.HTTPError as exc:
                exc.close()
                return  # any HTTP answer means the server is serving
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
