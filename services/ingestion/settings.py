"""Settings of the ingestion service, from `INGESTION_*` environment variables.

S3 itself is configured by the standard AWS_* variables (AWS_ENDPOINT_URL_S3, AWS_REGION,
AWS_ACCESS_KEY_ID...), which boto3 reads on its own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from gamekit.settings import IdentityList, LogLevel, ServiceSettings


class RunSettings(BaseSettings):
    """What one run needs (`ingestion run-once`): the ledger, S3, the catalog, the client certificate."""

    model_config = SettingsConfigDict(env_prefix="INGESTION_", extra="ignore", frozen=True)

    database_url: str = Field(
        min_length=1,
        description="SQLAlchemy URL of the ledger database (postgresql+psycopg://...): the catalog's"
        " PostgreSQL server, in a schema of its own, ingestion.",
    )
    db_statement_timeout_seconds: float = Field(
        60.0,
        gt=0,
        le=86_400,
        description="Longest one ledger statement runs, even for a caller with a later deadline (or none);"
        " a shorter deadline cuts it further.",
    )
    db_lock_timeout_seconds: float = Field(
        5.0,
        gt=0,
        le=3600,
        description="Longest a ledger statement waits for a lock before the call is UNAVAILABLE"
        " (LOCK_TIMEOUT).",
    )
    s3_bucket: str = Field(min_length=1, description="The bucket the deliveries land in.")
    s3_prefix: str = Field(
        "", description="Only keys under this prefix are ingested (*.json and *.json.gz objects)."
    )
    s3_max_attempts: int = Field(
        3, ge=1, le=20, description="Attempts per S3 request (botocore's standard retry mode)."
    )
    catalog_target: str = Field(
        "127.0.0.1:50061", min_length=1, description="host:port of the catalog's mTLS port."
    )
    catalog_server_name: str | None = Field(
        None, description="Name the catalog certificate is checked against, when not the target host."
    )
    catalog_timeout_seconds: float = Field(
        900.0, gt=0, le=86_400, description="Deadline of one file's ImportGames stream."
    )
    import_batch_size: int = Field(500, ge=1, le=10_000, description="Games per ImportGames message.")
    max_attempts: int = Field(
        4,
        ge=1,
        le=20,
        description="Attempts per file within one run (S3 or the catalog unavailable) before the run marks"
        " it failed.",
    )
    retry_initial_backoff_seconds: float = Field(
        1.0, ge=0, le=600, description="First wait between attempts of a file (doubles, with jitter)."
    )
    retry_max_backoff_seconds: float = Field(
        30.0, ge=0, le=3600, description="Longest wait between attempts of a file."
    )
    max_quarantine_ratio: float = Field(
        0.05,
        ge=0,
        le=1,
        description="A file with a larger share of quarantined records publishes nothing and is rejected.",
    )
    max_quarantine_rows: int = Field(
        1000,
        ge=0,
        le=1_000_000,
        description="Quarantined records kept per file (the first ones); the rest are only counted.",
    )
    max_repair_rows: int = Field(
        100_000, ge=0, le=10_000_000, description="Repaired fields kept per file; the rest are only counted."
    )
    max_file_bytes: int = Field(
        4 * 2**30,
        ge=1024,
        description="Largest file, in decompressed bytes; a larger one is rejected when it passes this.",
    )
    max_gzip_ratio: float = Field(
        100.0,
        ge=2,
        description="A gzip file that inflates more than this many times its size is rejected (a bomb).",
    )
    max_file_failures: int = Field(
        3,
        ge=1,
        le=100,
        description="Runs that may fail a file for a transient reason (S3, catalog) or stop while importing"
        " it, before it is rejected.",
    )
    file_retry_window_seconds: float = Field(
        6 * 3600,
        ge=0,
        le=30 * 86_400,
        description="A file is rejected for failed runs only once they span this long: S3 events retry"
        " fast, and a short outage must not reject a good file.",
    )
    alert_webhook_url: str | None = Field(
        None, description="Slack-compatible webhook POSTed when a run fails; unset: no alert."
    )
    tls_cert_file: Path = Field(
        description="PEM certificate of ingestion (its SPIFFE identity), presented to the catalog; re-read"
        " when the file changes."
    )
    tls_key_file: Path = Field(description="PEM private key of ingestion; re-read when the file changes.")
    tls_ca_file: Path = Field(
        description="PEM bundle of the platform CA, which signs the catalog's certificate."
    )
    log_level: LogLevel = Field("INFO", description="Lowest level of log lines written.")


class IngestionSettings(ServiceSettings, RunSettings):
    """Everything `ingestion serve` needs; built once in `__main__`."""

    model_config = SettingsConfigDict(env_prefix="INGESTION_")

    port: int = Field(50071, ge=0, le=65535, description="mTLS business port (0 picks a free one).")
    health_port: int = Field(
        50072, ge=0, le=65535, description="Plaintext port serving only grpc.health.v1, for kubelet's probes."
    )
    metrics_port: int = Field(9471, ge=0, le=65535, description="Prometheus metrics port, /metrics.")
    sqs_queue_url: str | None = Field(
        None, description="SQS queue of S3 event notifications; unset: no event consumer."
    )
    gateway_identities: IdentityList = Field(
        default_factory=lambda: ["spiffe://games.local/gateway"],
        description="Comma-separated SPIFFE ids allowed to call IngestionService.",
    )
    page_token_secret: SecretStr | None = Field(
        None,
        description="HMAC key of page tokens; set the same value on every replica. Unset: a random key"
        " per process.",
    )
    default_page_size: int = Field(50, ge=1, le=1000, description="Page size when a request says 0.")
    max_page_size: int = Field(1000, ge=1, le=10000, description="Largest page size a request may ask for.")


class MigrateSettings(BaseSettings):
    """What `ingestion migrate` (the Helm pre-install hook) needs: only the ledger database."""

    model_config = SettingsConfigDict(env_prefix="INGESTION_", extra="ignore", frozen=True)

    database_url: str = Field(
        min_length=1, description="SQLAlchemy URL of the ledger database (postgresql+psycopg://...)."
    )
    log_level: LogLevel = Field("INFO", description="Lowest level of log lines written.")
