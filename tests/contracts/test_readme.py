"""docs/configuration.md documents every setting a service reads; the README keeps its two commands first."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from catalog.settings import CatalogSettings
from catalog.settings import MigrateSettings as CatalogMigrateSettings
from gateway.settings import GatewaySettings
from ingestion.settings import IngestionSettings, RunSettings
from ingestion.settings import MigrateSettings as IngestionMigrateSettings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text()
SETTINGS: list[type[BaseSettings]] = [
    CatalogSettings,
    CatalogMigrateSettings,
    IngestionSettings,
    RunSettings,
    IngestionMigrateSettings,
    GatewaySettings,
]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: f"{s.__module__}.{s.__name__}")
def test_every_setting_is_in_the_configuration_doc(settings: type[BaseSettings]) -> None:
    prefix = str(settings.model_config.get("env_prefix", ""))
    missing = [
        f"{prefix}{name}".upper()
        for name in settings.model_fields
        if f"`{prefix}{name}`".upper() not in CONFIGURATION.upper()
    ]
    assert not missing, f"document these settings in docs/configuration.md (make config-docs): {missing}"


def test_make_up_and_make_test_come_first() -> None:
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "make up" in first_block
    assert "make test" in first_block
