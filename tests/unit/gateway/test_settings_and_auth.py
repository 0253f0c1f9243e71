"""Gateway settings parsing, bearer parsing and the surface table."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from gamekit.errors import Unauthenticated
from gamekit.settings import load_settings
from gateway.callers.auth import bearer_token
from gateway.settings import GatewaySettings, parse_identity_scopes
from gateway.surface import CATALOG, INGESTION, METHODS, Kind, idempotent_methods

REQUIRED = {"tls_cert_file": "c", "tls_key_file": "k", "tls_ca_file": "a", "api_keys_file": "keys.json"}


def test_identity_scopes_parse_from_one_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "GATEWAY_IDENTITY_SCOPES",
        "spiffe://games.local/ci=games.read;games.write, spiffe://games.local/operator=",
    )
    settings = GatewaySettings(**REQUIRED)  # type: ignore[arg-type]
    assert settings.identity_scopes == {
        "spiffe://games.local/ci": frozenset({"games.read", "games.write"}),
        "spiffe://games.local/operator": frozenset(),
    }
    assert settings.api_keys_file == Path("keys.json")
    assert (settings.port, settings.health_port, settings.metrics_port) == (50051, 50052, 9451)


@pytest.mark.parametrize(
    "value", ["spiffe://games.local/ci", "spiffe://games.local/ci=games.root", "https://ci=games.read"]
)
def test_bad_identity_scopes_are_refused(value: str) -> None:
    with pytest.raises(ValidationError):
        GatewaySettings(**REQUIRED, identity_scopes=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["0", "-1", "65", "two", "1.5", ""])
def test_a_process_count_outside_1_to_64_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    monkeypatch.setenv("GATEWAY_PROCESSES", value)
    for name, setting in REQUIRED.items():
        monkeypatch.setenv(f"GATEWAY_{name.upper()}", setting)
    with pytest.raises(SystemExit):
        load_settings(GatewaySettings)
    assert capsys.readouterr().err.startswith("invalid setting GATEWAY_PROCESSES:")


def test_parse_identity_scopes_skips_empty_entries() -> None:
    assert parse_identity_scopes(" , spiffe://x=games.read ,") == {"spiffe://x": frozenset({"games.read"})}


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], None), (["Bearer gk_a_b"], "gk_a_b"), (["bearer   gk_a_b  "], "gk_a_b")],
)
def test_bearer_token(values: list[str], expected: str | None) -> None:
    assert bearer_token(values) == expected


@pytest.mark.parametrize("values", [["Basic abc"], ["Bearer"], ["gk_a_b"], ["Bearer a", "Bearer b"]])
def test_malformed_authorization_is_unauthenticated(values: list[str]) -> None:
    with pytest.raises(Unauthenticated):
        bearer_token(values)


def test_only_reads_and_lookups_are_retried() -> None:
    catalog = {m.rpartition("/")[2] for m in idempotent_methods(CATALOG.full_name)}
    assert catalog == {"GetGame", "ListGames", "SearchGames", "GetImport", "ListImports"}
    ingestion = {m.rpartition("/")[2] for m in idempotent_methods(INGESTION.full_name)}
    assert ingestion == {"GetRun", "ListRuns", "ListFiles", "ListQuarantinedRecords"}
    assert {m.rpartition("/")[2] for m, spec in METHODS.items() if spec.kind is Kind.READ} == {
        "GetGame",
        "ListGames",
        "SearchGames",
    }
