"""docs/configuration.md is what scripts/settings_doc.py writes from the settings classes, all described."""

from __future__ import annotations

import pytest
from pydantic_settings import BaseSettings

from scripts.settings_doc import END, PAGE, SERVICES, SETTINGS_CLASSES, START, rendered_page, service_rows


def test_configuration_doc_is_current() -> None:
    assert PAGE.read_text() == rendered_page(), "docs/configuration.md is stale: run make config-docs"


def test_the_generated_tables_sit_between_hand_written_text() -> None:
    text = PAGE.read_text()
    assert text.count(START) == 1
    assert text.count(END) == 1
    before, _, rest = text.partition(START)
    _, _, after = rest.partition(END)
    # The standard variables and the local ones are hand-written, outside what the script rewrites.
    assert "AWS_ENDPOINT_URL_S3" in before
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" in before
    assert "TEST_DATABASE_URL" in after


@pytest.mark.parametrize("settings", SETTINGS_CLASSES, ids=lambda s: f"{s.__module__}.{s.__name__}")
def test_every_setting_has_a_description(settings: type[BaseSettings]) -> None:
    bare = [name for name, field in settings.model_fields.items() if not (field.description or "").strip()]
    assert not bare, f"give these fields of {settings.__name__} a description=: {bare}"


def test_every_class_a_process_builds_is_documented() -> None:
    # A settings class added to a command but not to SERVICES would be read and never documented.
    from catalog import __main__ as catalog_main
    from gateway import __main__ as gateway_main
    from ingestion import __main__ as ingestion_main

    built = {
        value
        for module in (catalog_main, gateway_main, ingestion_main)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseSettings)
    }
    assert built, "the services' __main__ modules name no settings class"
    assert built <= set(SETTINGS_CLASSES)


def test_each_row_names_the_variable_a_process_reads() -> None:
    for service in SERVICES:
        prefix = service.prefix
        variables = [row[0] for row in service_rows(service)]
        expected = {
            f"`{prefix}{name.upper()}`" for cls in service.commands.values() for name in cls.model_fields
        }
        assert set(variables) == expected
        assert len(variables) == len(set(variables))
