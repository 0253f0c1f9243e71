"""Settings every service shares, read from environment variables with one prefix per service.

Each service subclasses `ServiceSettings` with its own `env_prefix` and builds it once in
`__main__` through `load_settings`, which turns a bad value into one clear line and exit code 2.
Nothing reads the environment at import time.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

S = TypeVar("S", bound=BaseSettings)

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _spiffe_only(value: list[str]) -> list[str]:
    for identity in value:
        if not identity.startswith("spiffe://"):
            raise ValueError(f"{identity!r} is not a SPIFFE id (spiffe://...)")
    return value


# SPIFFE ids given as one comma-separated environment variable.
IdentityList = Annotated[list[str], NoDecode, BeforeValidator(_split_commas), AfterValidator(_spiffe_only)]


class ServiceSettings(BaseSettings):
    """What every gRPC service needs: its ports, its certificates, its grace period, its limits.

    The limits' defaults fit the chart's pods (up to one CPU, 512 MiB) and gamekit's 16 handler threads:
    - `max_concurrent_rpcs` 64: 16 calls running and up to 48 waiting for a thread. A waiting call has
      not read its request yet (grpcio reads it on the handler thread), so waiting costs latency, not
      memory; 48 is three rounds of work, within any deadline at the platform's usual milliseconds a
      call, and past that a caller is better told at once (RESOURCE_EXHAUSTED) to retry elsewhere.
    - `max_health_reflection_streams` 8, 4 from one peer: a reflection stream holds a handler thread
      while open, so even if every one is, half the threads stay free for everyone else. grpcurl and
      k6 open one stream at a time and close it; nothing in the platform holds a health Watch.
    """

    model_config = SettingsConfigDict(extra="ignore", frozen=True, case_sensitive=False)

    host: str = Field(
        "127.0.0.1",
        description="Address the gRPC, health and metrics ports bind to: loopback by default, 0.0.0.0 in a"
        " pod.",
    )
    port: int = Field(50051, ge=0, le=65535, description="mTLS business port (0 picks a free one).")
    health_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Plaintext port serving only grpc.health.v1, for kubelet's probes (0 picks a free one).",
    )
    metrics_port: int = Field(
        0, ge=0, le=65535, description="Prometheus metrics port, /metrics (0 picks a free one)."
    )
    tls_cert_file: Path = Field(
        description="PEM certificate of this service, with its SPIFFE URI SAN: served to its callers and"
        " shown to the services it calls; re-read when the file changes."
    )
    tls_key_file: Path = Field(description="PEM private key of this service; re-read when the file changes.")
    tls_ca_file: Path = Field(
        description="PEM bundle of the platform CA: a certificate a peer shows must be signed by it."
    )
    grace_period_seconds: float = Field(
        10.0, gt=0, le=300, description="On SIGTERM, how long in-flight calls may take to finish."
    )
    log_level: LogLevel = Field(
        "INFO", description="Lowest level of log lines written; at WARNING the access log lines are gone."
    )
    max_concurrent_rpcs: int = Field(
        64,
        ge=1,
        le=10_000,
        description="Calls handled or waiting for one of the 16 handler threads at once; beyond,"
        " RESOURCE_EXHAUSTED (reason SERVER_BUSY) at once.",
    )
    max_health_reflection_streams: int = Field(
        8,
        ge=1,
        le=1000,
        description="Health Watch and reflection streams open at once (they need no key); beyond,"
        " RESOURCE_EXHAUSTED (reason TOO_MANY_STREAMS). Must be below MAX_CONCURRENT_RPCS.",
    )
    max_health_reflection_streams_per_peer: int = Field(
        4,
        ge=1,
        le=1000,
        description="Of those, how many one caller (certificate identity, else address) may hold open;"
        " at most the total.",
    )

    @field_validator("max_health_reflection_streams")
    @classmethod
    def _streams_leave_calls_room(cls, value: int, info: ValidationInfo) -> int:
        limit = info.data.get("max_concurrent_rpcs")
        if limit is not None and value >= limit:
            raise ValueError(f"must be below max_concurrent_rpcs ({limit}): a reflection stream is a call")
        return value

    @field_validator("max_health_reflection_streams_per_peer")
    @classmethod
    def _per_peer_within_total(cls, value: int, info: ValidationInfo) -> int:
        total = info.data.get("max_health_reflection_streams")
        if total is not None and value > total:
            raise ValueError(f"must be at most max_health_reflection_streams ({total})")
        return value


def describe_error(error: ValidationError, prefix: str) -> str:
    """One line naming the first bad setting by its environment variable."""
    first = error.errors()[0]
    name = prefix + "_".join(str(part) for part in first["loc"]).upper()
    value = first.get("input")
    shown = "" if value is None or isinstance(value, dict) else f" (got {value!r})"
    return f"invalid setting {name}: {first['msg']}{shown}"


def load_settings(cls: type[S]) -> S:
    """Build settings from the environment, or exit 2 with one line naming the bad setting."""
    try:
        return cls()
    except ValidationError as error:
        prefix = str(cls.model_config.get("env_prefix", ""))
        print(describe_error(error, prefix), file=sys.stderr)
        raise SystemExit(2) from None
