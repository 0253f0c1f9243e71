"""Rejected files: a state that is never taken again, its reason, drift, acceptance and failed runs.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

UPGRADE = r"""
ALTER TABLE ingestion.files DROP CONSTRAINT files_state_check;
ALTER TABLE ingestion.files ADD CONSTRAINT files_state_check
    CHECK (state IN ('importing', 'imported', 'failed', 'rejected'));
ALTER TABLE ingestion.files
    -- Why the file will not be taken again (until an operator accepts it).
    ADD COLUMN reject_reason text NOT NULL DEFAULT '',
    -- Runs that failed the file for a transient reason (or stopped while importing it), and when the
    -- first did: at INGESTION_MAX_FILE_FAILURES over INGESTION_FILE_RETRY_WINDOW_SECONDS it is rejected.
    ADD COLUMN failures integer NOT NULL DEFAULT 0,
    ADD COLUMN first_failure_time timestamptz,
    -- [{"field", "shape", "action", "records"}]: descriptive fields that arrived in another shape.
    ADD COLUMN drift jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN accepted_by text NOT NULL DEFAULT '',
    ADD COLUMN accept_time timestamptz;
ALTER TABLE ingestion.runs ADD COLUMN files_rejected bigint NOT NULL DEFAULT 0;
"""

DOWNGRADE = r"""
ALTER TABLE ingestion.runs DROP COLUMN files_rejected;
UPDATE ingestion.files SET state = 'failed', error = reject_reason WHERE state = 'rejected';
ALTER TABLE ingestion.files
    DROP COLUMN accept_time,
    DROP COLUMN accepted_by,
    DROP COLUMN drift,
    DROP COLUMN first_failure_time,
    DROP COLUMN failures,
    DROP COLUMN reject_reason;
ALTER TABLE ingestion.files DROP CONSTRAINT files_state_check;
ALTER TABLE ingestion.files ADD CONSTRAINT files_state_check
    CHECK (state IN ('importing', 'imported', 'failed'));
"""


def upgrade() -> None:
    """Add the rejected state and what goes with it."""
    op.execute(UPGRADE)


def downgrade() -> None:
    """Back to 0001: rejected files become failed ones (taken again by the next run)."""
    op.execute(DOWNGRADE)
