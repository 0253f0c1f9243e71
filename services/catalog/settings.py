"""Settings of the catalog service, from `CATALOG_*` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from gamekit.settings import IdentityList, LogLevel, ServiceSettings


class CatalogSettings(ServiceSettings):
    """Everything the catalog process needs; built once in `__main__`."""

    model_config = SettingsConfigDict(env_prefix="CATALOG_")

    port: int = Field(50061, ge=0, le=65535, description="mTLS business port (0 picks a free one).")
    health_port: int = Field(
        50062, ge=0, le=65535, description="Plaintext port serving only grpc.health.v1, for kubelet's probes."
    )
    metrics_port: int = Field(9461, ge=0, le=65535, description="Prometheus metrics port, /metrics.")
    database_url: str = Field(
        min_length=1, description="SQLAlchemy URL of the catalog database (postgresql+psycopg://...)."
    )
    db_pool_size: int = Field(10, ge=1, le=200, description="Connections kept open in the pool.")
    db_max_overflow: int = Field(5, ge=0, le=200, description="Extra connections opened under load.")
    db_pool_timeout_seconds: float = Field(
        5.0, gt=0, le=120, description="How long a call waits for a pooled connection before UNAVAILABLE."
    )
    db_statement_timeout_seconds: float = Field(
        300.0,
        gt=0,
        le=86_400,
        description="Longest one SQL statement runs, even for a caller with a later deadline (or none);"
        " a shorter deadline cuts it further. An import's publish must fit. Past it, the call is"
        " RESOURCE_EXHAUSTED (QUERY_TIMEOUT).",
    )
    db_lock_timeout_seconds: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="Longest a statement waits for a lock another change holds (an import publishing, a"
        " concurrent update) before the call is UNAVAILABLE (LOCK_TIMEOUT).",
    )
    page_token_secret: SecretStr | None = Field(
        None,
        description="HMAC key of page tokens; set the same value on every replica. Unset: a random key"
        " per process.",
    )
    default_page_size: int = Field(50, ge=1, le=1000, description="Page size when a request says 0.")
    max_page_size: int = Field(1000, ge=1, le=10000, description="Largest page size a request may ask for.")
    search_similar_candidates: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="Most games the similar-names tier of SearchGames weighs (misspellings, fragments"
        " inside words); its cost follows this, and matches past it are not found.",
    )
    request_id_ttl_seconds: float = Field(
        86400.0,
        gt=0,
        le=30 * 86400,
        description="How long a CreateGame request id is remembered: a retry within it gets the first"
        " answer; after it, the id is a new request.",
    )
    gateway_identities: IdentityList = Field(
        default_factory=lambda: ["spiffe://games.local/gateway"],
        description="Comma-separated SPIFFE ids allowed to call the read and write methods.",
    )
    ingestion_identities: IdentityList = Field(
        default_factory=lambda: ["spiffe://games.local/ingestion"],
        description="Comma-separated SPIFFE ids allowed to call the read methods and ImportGames.",
    )


class MigrateSettings(BaseSettings):
    """What `catalog migrate` (the Helm pre-install hook) needs: only the database."""

    model_config = SettingsConfigDict(env_prefix="CATALOG_", extra="ignore", frozen=True)

    database_url: str = Field(
        min_length=1, description="SQLAlchemy URL of the catalog database (postgresql+psycopg://...)."
    )
    log_level: LogLevel = Field("INFO", description="Lowest level of log lines written.")
