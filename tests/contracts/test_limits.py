"""Ingestion accepts exactly what the catalog accepts: its mirrored limits match the catalog's own.

The services may not import each other, so ingestion/parsing/app_record.py repeats
catalog/domain/validation.py's limits; a record ingestion lets through must never fail the whole
import in the catalog.
"""

from __future__ import annotations

import pytest

from catalog.domain import validation
from catalog.model import Platform
from ingestion.parsing import app_record

MIRRORED = (
    "MAX_NAME",
    "MAX_STORE_ID",
    "MAX_TEXT",
    "MAX_URI",
    "MAX_CATEGORIES",
    "MAX_CATEGORY",
    "MAX_INT32",
    "MAX_INT64",
)


@pytest.mark.parametrize("name", MIRRORED)
def test_ingestion_limits_are_the_catalogs(name):
    assert getattr(app_record, name) == getattr(validation, name)


def test_ingestion_knows_the_catalogs_platforms():
    assert set(app_record.PLATFORMS) == {platform.value for platform in Platform}
