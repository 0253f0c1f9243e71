"""The S3 side: list the deliveries under a prefix and stream one object's body, never reading it whole.

botocore errors become `gamekit.errors.Unavailable` at this boundary (`raise ... from exc`), also
while the body is being read. A body that cannot be used becomes `CorruptObject`, and the caller
rejects the file at once: it is not valid gzip, or it is larger than `max_bytes` once decompressed
(INGESTION_MAX_FILE_BYTES), or, gzip-compressed, it inflates to more than `max_gzip_ratio` times the
compressed bytes read so far (a gzip bomb; checked only past 1 MiB decompressed, so small files never
trip it). Both bounds are counted as the bytes flow, in the stream wrappers, and refuse the body as
soon as it passes them; how the parser bounds memory within a file is ingestion.parsing.records' business.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, BinaryIO

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from gamekit.errors import NotFound, Unavailable
from ingestion.model import SourceObject

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SUFFIXES = (".json", ".json.gz")
_CHUNK = 64 * 1024
# Below this much decompressed, a high ratio is a small, repetitive file, not a bomb.
_RATIO_FROM = 2**20


class CorruptObject(Exception):
    """The object's bytes cannot be used (bad gzip, too large, a gzip bomb); `reason` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ObjectChanged(Exception):
    """The object was overwritten since it was listed; the next run takes the new version."""


def make_s3_client(*, max_attempts: int = 3) -> S3Client:
    """An S3 client configured by the AWS_* variables, with botocore's standard retry mode."""
    config = Config(
        retries={"mode": "standard", "max_attempts": max_attempts}, connect_timeout=5, read_timeout=30
    )
    client: S3Client = boto3.client("s3", config=config)
    return client


def is_delivery(key: str) -> bool:
    """Whether a key names a delivery file (`*.json` or `*.json.gz`)."""
    return key.endswith(SUFFIXES)


def _etag(value: str) -> str:
    return value.strip('"')


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return str(exc)


class _Guarded(io.RawIOBase):
    """A readable stream that counts its bytes, checks them, and turns the errors below into ours."""

    def __init__(
        self,
        read: Callable[[int], bytes],
        translate: Callable[[Exception], Exception],
        check: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__()
        self._read = read
        self._translate = translate
        self._check = check
        self.count = 0  # bytes read through this stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._read(len(view))
        except Exception as exc:
            translated = self._translate(exc)
            if translated is exc:
                raise
            raise translated from exc
        view[: len(data)] = data
        self.count += len(data)
        if self._check is not None:
            self._check(self.count)
        return len(data)


class S3Source:
    """Deliveries under `bucket/prefix`, through a boto3 client passed in."""

    def __init__(
        self,
        *,
        client: S3Client,
        bucket: str,
        prefix: str = "",
        max_bytes: int = 4 * 2**30,
        max_gzip_ratio: float = 100.0,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.max_bytes = max_bytes  # decompressed bytes of one file
        self.max_gzip_ratio = max_gzip_ratio  # decompressed / compressed bytes of a gzip file

    def list_objects(self) -> list[SourceObject]:
        """Every `*.json` and `*.json.gz` object under the prefix, in key order."""
        found: list[SourceObject] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    if is_delivery(item["Key"]):
                        found.append(
                            SourceObject(
                                bucket=self.bucket,
                                key=item["Key"],
                                etag=_etag(item["ETag"]),
                                size=item.get("Size", 0),
                            )
                        )
        except (BotoCoreError, ClientError) as exc:
            raise Unavailable(f"cannot list s3://{self.bucket}/{self.prefix}: {_describe(exc)}") from exc
        return found

    def describe(self, bucket: str, key: str) -> SourceObject:
        """The current version of one object (for a key named by an event); NotFound when gone."""
        try:
            head = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise NotFound(f"s3://{bucket}/{key} no longer exists") from exc
            raise Unavailable(f"cannot read s3://{bucket}/{key}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise Unavailable(f"cannot read s3://{bucket}/{key}: {_describe(exc)}") from exc
        return SourceObject(
            bucket=bucket,
            key=key,
            etag=_etag(head["ETag"]),
            size=head.get("ContentLength", 0),
        )

    @contextmanager
    def open(self, source: SourceObject) -> Iterator[BinaryIO]:
        """A fresh GET of exactly this version, as a decompressed stream; closed when the block ends."""
        where = f"s3://{source.bucket}/{source.key}"
        request: dict[str, Any] = {"Bucket": source.bucket, "Key": source.key, "IfMatch": f'"{source.etag}"'}
        if source.version_id:
            request["VersionId"] = source.version_id
        try:
            response = self.client.get_object(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise ObjectChanged(f"{where} changed since it was listed") from exc
            raise Unavailable(f"cannot read {where}: {_describe(exc)}") from exc
        except BotoCoreError as exc:
            raise Unavailable(f"cannot read {where}: {_describe(exc)}") from exc
        body = response["Body"]

        def network(exc: Exception) -> Exception:
            if isinstance(exc, BotoCoreError | ClientError | OSError):
                return Unavailable(f"reading {where} failed: {_describe(exc)}")
            return exc

        compressed = source.key.endswith(".gz") or response.get("ContentEncoding", "") == "gzip"
        wire = _Guarded(body.read, network, None if compressed else self._bounds(where, None))
        raw: io.RawIOBase = wire
        try:
            if compressed:
                unzipped = gzip.GzipFile(fileobj=io.BufferedReader(wire, _CHUNK), mode="rb")
                raw = _Guarded(unzipped.read, _gzip_errors(where), self._bounds(where, wire))
            yield io.BufferedReader(raw, _CHUNK)
        finally:
            body.close()

    def _bounds(self, where: str, wire: _Guarded | None) -> Callable[[int], None]:
        """A check of the decompressed bytes read so far; `wire` counts the compressed ones, if any."""

        def check(count: int) -> None:
            if count > self.max_bytes:
                unzipped = " decompressed" if wire is not None else ""
                raise CorruptObject(
                    f"{where} is larger than {_size(self.max_bytes)}{unzipped} (INGESTION_MAX_FILE_BYTES)"
                )
            if wire is not None and count >= _RATIO_FROM and count > self.max_gzip_ratio * wire.count:
                ratio = f"{self.max_gzip_ratio:g} times its {wire.count} compressed bytes"
                raise CorruptObject(
                    f"{where} inflates to more than {ratio} (a gzip bomb?); refused after {_size(count)}"
                )

        return check


def _size(count: int) -> str:
    """`count` bytes for a human: 4 GiB, 1.5 MiB, 412 KiB, 12 bytes."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"


def _gzip_errors(where: str) -> Callable[[Exception], Exception]:
    def translate(exc: Exception) -> Exception:
        if isinstance(exc, gzip.BadGzipFile | zlib.error):
            return CorruptObject(f"{where} is not valid gzip: {exc}")
        if isinstance(exc, EOFError):
            return CorruptObject(f"{where} is truncated: the gzip stream ends early")
        return exc

    return translate
