"""Reviews: a person's accept or reject of an exported bundle, bound to its manifest's digest.

Each review is sealed by a chain entry of its own; seals of entries without a review are unchanged
(a seal without a `reviews` part commits to none), so every existing root still re-derives.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bundle_digest", sa.String(length=64), nullable=False),
        sa.Column("bundle_head", sa.String(length=64), nullable=False),
        sa.Column("exporter", sa.String(length=255), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_review_bundle_digest", "review", ["bundle_digest"])
    op.create_index("ix_review_run_id", "review", ["run_id"])


def downgrade() -> None:
    op.drop_table("review")
