"""Settings of the gateway, from `GATEWAY_*` environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from gamekit.security.tls import ClientAuth
from gamekit.settings import ServiceSettings
from gateway.surface import SCOPES

MiB = 1024 * 1024
IdentityScopes = Annotated[dict[str, frozenset[str]], NoDecode]


def parse_identity_scopes(text: str) -> dict[str, frozenset[str]]:
    """`spiffe://a=games.read;games.write,spiffe://b=` → {id: scopes}; an empty list grants nothing."""
    mapping: dict[str, frozenset[str]] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        identity, equals, scopes = entry.partition("=")
        if not equals:
            raise ValueError(f"{entry!r} is not <spiffe id>=<scope>;<scope>...")
        mapping[identity.strip()] = frozenset(s.strip() for s in scopes.split(";") if s.strip())
    return mapping


class GatewaySettings(ServiceSettings):
    """Everything the gateway process needs; built once in `__main__`."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_")

    port: int = Field(
        50051, ge=0, le=65535, description="TLS business port callers use (0 picks a free one)."
    )
    health_port: int = Field(
        50052, ge=0, le=65535, description="Plaintext port serving only grpc.health.v1, for kubelet's probes."
    )
    metrics_port: int = Field(
        9451,
        ge=0,
        le=65535,
        description="Prometheus metrics port, /metrics; one for all of the pod's processes, each series"
        " labelled with its worker.",
    )
    client_auth: ClientAuth = Field(
        "require",
        description="require: callers show a platform certificate (mTLS) as well as a key; none: TLS and"
        " keys only (gRPC cannot ask for an optional certificate).",
    )
    catalog_target: str = Field("127.0.0.1:50061", min_length=1, description="host:port of the catalog.")
    ingestion_target: str = Field("127.0.0.1:50071", min_length=1, description="host:port of ingestion.")
    backend_server_name: str | None = Field(
        None, description="Name the backends' certificates are checked against, when not the target host."
    )
    backend_timeout_seconds: float = Field(
        10.0, gt=0, le=3600, description="Deadline of a forwarded call when the caller set none."
    )
    run_timeout_seconds: float = Field(
        900.0,
        gt=0,
        le=86_400,
        description="Deadline of RunIngestion and AcceptFile when the caller set none (AcceptFile answers"
        " when its import ends).",
    )
    api_keys_file: Path = Field(
        description="The API keys file (JSON: each key's id, SHA-256 hash, scopes, optional rate limit and"
        " max_in_flight), re-read when it changes."
    )
    api_keys_reload_seconds: float = Field(
        2.0, gt=0, le=3600, description="How often the keys file is checked for changes."
    )
    identity_scopes: IdentityScopes = Field(
        default_factory=dict,
        description="Client-certificate identities granted scopes, for callers without a key:"
        " spiffe://x=games.read;games.write,spiffe://y= (an empty list grants nothing).",
    )
    redis_url: str | None = Field(
        None, description="Redis shared by every replica's rate limiter; unset: an in-process limiter."
    )
    rate_limit_rps: float = Field(
        50.0, gt=0, description="Default calls per second per key (a key's entry may set its own)."
    )
    rate_limit_burst: int = Field(
        100, ge=1, description="Default burst per key (a key's entry may set its own)."
    )
    default_max_in_flight: int = Field(
        8,
        ge=1,
        le=10_000,
        description="Calls in flight at once per key (or certificate identity) in each replica, unless"
        " the key's entry sets max_in_flight; more are refused with RESOURCE_EXHAUSTED (reason"
        " TOO_MANY_IN_FLIGHT).",
    )
    replicas: int = Field(
        1,
        ge=1,
        le=1000,
        description="Gateway replicas assumed until they have counted each other in Redis; while Redis"
        " fails, each admits the limit divided by the count.",
    )
    processes: int = Field(
        1,
        ge=1,
        le=64,
        description="Gateway processes in this pod, sharing its ports by SO_REUSEPORT (one per core given to"
        " the pod; the chart sets it from the CPU request). Each has its own cache and in-flight limits and"
        " counts as a replica for the rate limits.",
    )
    reflection: bool = Field(True, description="Serve gRPC reflection (needs no key).")
    cache_max_entries: int = Field(
        10_000, ge=0, description="Cached responses at most; 0 turns the cache off."
    )
    cache_max_bytes: int = Field(64 * MiB, ge=0, description="Bytes of cached responses at most.")
    max_message_bytes: int = Field(1 * MiB, ge=1024, description="Largest request message accepted.")
    max_page_size: int = Field(1000, ge=1, description="Largest page_size a request may ask for.")

    @field_validator("identity_scopes", mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        return parse_identity_scopes(value) if isinstance(value, str) else value

    @field_validator("identity_scopes")
    @classmethod
    def _known(cls, value: Mapping[str, frozenset[str]]) -> Mapping[str, frozenset[str]]:
        for identity, scopes in value.items():
            if not identity.startswith("spiffe://"):
                raise ValueError(f"{identity!r} is not a SPIFFE id (spiffe://...)")
            unknown = sorted(scopes - set(SCOPES))
            if unknown:
                raise ValueError(f"unknown scopes {unknown} for {identity}; known: {', '.join(SCOPES)}")
        return value
