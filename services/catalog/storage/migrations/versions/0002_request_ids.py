"""Request ids per AIP-155: scoped to the caller, bound to one request, answered as the first time, expiring.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

# create_requests (0001) stays for now: replicas of the previous release still write it during a rolling
# upgrade. Nothing reads it any more; a later migration drops it.
UPGRADE = r"""
CREATE TABLE catalog.request_ids (
    -- '<key id> via <gateway SPIFFE id>' for a call the gateway forwarded, else the peer's SPIFFE id.
    caller text NOT NULL,
    request_id uuid NOT NULL,
    -- SHA-256 of the request without its request_id (deterministic serialization of its known fields).
    request_hash bytea NOT NULL,
    -- The games row the first call answered with (to_jsonb); NULL only inside the creating transaction.
    answer jsonb,
    create_time timestamptz NOT NULL DEFAULT now(),
    -- After this the id is new again; creates purge expired rows as they go.
    expire_time timestamptz NOT NULL,
    PRIMARY KEY (caller, request_id)
);
CREATE INDEX request_ids_expire_time ON catalog.request_ids (expire_time);
"""

DOWNGRADE = r"""
DROP TABLE catalog.request_ids;
"""


def upgrade() -> None:
    """Add the request ids table."""
    op.execute(UPGRADE)


def downgrade() -> None:
    """Back to 0001: request ids are forgotten (0001's code keeps its own in create_requests)."""
    op.execute(DOWNGRADE)
