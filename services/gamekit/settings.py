"""Settings every service shares, read from environment variables with one prefix per service.

Each service subclasses `ServiceSettings` with its own `env_prefix` and builds it once in
`__main__` through `load_settings`, which turns a bad value into one clear line and exit code 2.
Nothing reads the environment at import time.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
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
    """What every gRPC service needs: its ports, its certificates, its grace period."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, case_sensitive=False)

    host: str = Field("127.0.0.1", description="Address the gRPC ports bind to.")
    port: int = Field(50051, ge=0, le=65535, description="mTLS business port (0 picks a free one).")
    health_port: int = Field(
        0, ge=0, le=65535, description="Plaintext port serving only grpc.health.v1 (0 picks a free one)."
    )
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus metrics port (0 picks a free one).")
    tls_cert_file: Path = Field(description="PEM certificate of this service, with its SPIFFE URI SAN.")
    tls_key_file: Path = Field(description="PEM private key of this service.")
    tls_ca_file: Path = Field(description="PEM bundle of the platform CA that signs every peer.")
    grace_period_seconds: float = Field(
        10.0, gt=0, le=300, description="On SIGTERM, how long in-flight calls may take to finish."
    )
    log_level: LogLevel = Field("INFO", description="Lowest level of log lines written.")


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
