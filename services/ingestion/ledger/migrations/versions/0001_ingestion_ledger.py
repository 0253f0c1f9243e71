"""The ingestion ledger: runs, files, quarantined records and repairs, in schema `ingestion`.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

UPGRADE = r"""
CREATE SCHEMA IF NOT EXISTS ingestion;

CREATE TABLE ingestion.runs (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trigger text NOT NULL CHECK (trigger IN ('schedule', 'admin', 'event')),
    state text NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
    start_time timestamptz NOT NULL DEFAULT clock_timestamp(),
    end_time timestamptz,
    files_imported bigint NOT NULL DEFAULT 0,
    files_skipped bigint NOT NULL DEFAULT 0,
    files_failed bigint NOT NULL DEFAULT 0,
    records_imported bigint NOT NULL DEFAULT 0,
    records_repaired bigint NOT NULL DEFAULT 0,
    records_quarantined bigint NOT NULL DEFAULT 0,
    records_duplicate bigint NOT NULL DEFAULT 0,
    error text NOT NULL DEFAULT ''
);
CREATE INDEX runs_succeeded_end ON ingestion.runs (end_time) WHERE state = 'succeeded';

CREATE TABLE ingestion.files (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket text NOT NULL,
    key text NOT NULL,
    etag text NOT NULL,
    version_id text NOT NULL DEFAULT '',
    size bigint NOT NULL DEFAULT 0,
    state text NOT NULL CHECK (state IN ('importing', 'imported', 'failed')),
    catalog_import text NOT NULL DEFAULT '',
    error text NOT NULL DEFAULT '',
    records_imported bigint NOT NULL DEFAULT 0,
    records_repaired bigint NOT NULL DEFAULT 0,
    records_quarantined bigint NOT NULL DEFAULT 0,
    records_duplicate bigint NOT NULL DEFAULT 0,
    attempts integer NOT NULL DEFAULT 0,
    run_id bigint REFERENCES ingestion.runs (id),
    create_time timestamptz NOT NULL DEFAULT clock_timestamp(),
    update_time timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- One row per delivered file version: this is what makes an import happen exactly once.
    CONSTRAINT files_version_key UNIQUE (bucket, key, etag, version_id)
);
CREATE INDEX files_run ON ingestion.files (run_id);

CREATE TABLE ingestion.quarantined_records (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_id bigint NOT NULL REFERENCES ingestion.files (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    -- As delivered: not always valid JSON (a broken encoding is why some are here), so text.
    raw text NOT NULL,
    reason text NOT NULL,
    create_time timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT quarantined_records_position_key UNIQUE (file_id, position)
);

CREATE TABLE ingestion.file_repairs (
    file_id bigint NOT NULL REFERENCES ingestion.files (id) ON DELETE CASCADE,
    position bigint NOT NULL,
    field text NOT NULL,
    original text NOT NULL,
    repaired text NOT NULL,
    encoding text NOT NULL,
    PRIMARY KEY (file_id, position, field)
);
"""

DOWNGRADE = r"""
DROP TABLE ingestion.file_repairs;
DROP TABLE ingestion.quarantined_records;
DROP TABLE ingestion.files;
DROP TABLE ingestion.runs;
"""


def upgrade() -> None:
    """Create the ledger."""
    op.execute(UPGRADE)


def downgrade() -> None:
    """Drop the ledger tables (the schema stays: it holds Alembic's version table)."""
    op.execute(DOWNGRADE)
