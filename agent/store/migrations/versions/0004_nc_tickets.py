"""NC tickets: the issue each tracker holds for an accepted nonconformity, and its last known status.

A plain table outside the chain: no seal commits to it, so every existing root still re-derives.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nc_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nc_id", sa.Integer(), nullable=False),
        sa.Column("tracker", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=255), nullable=False),
        sa.Column("status_done", sa.Boolean(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mirrored_step", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["nc_id"], ["nonconformity.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nc_id", "tracker", name="uq_nc_ticket_tracker"),
    )
    op.create_index("ix_nc_ticket_nc_id", "nc_ticket", ["nc_id"])


def downgrade() -> None:
    op.drop_table("nc_ticket")
