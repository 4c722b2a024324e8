"""Seal the registers: signed seals on runs, NC versions, hashed NC history and attestations.

Runs sealed before this revision keep their roots but have no seal: they stay linked on the chain
and are never counted (their outcomes were not committed).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("seal", JSON, nullable=True))
        batch.add_column(sa.Column("signature", sa.String(length=128), nullable=True))
    with op.batch_alter_table("nonconformity") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("nc_transition") as batch:
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("attestation") as batch:
        batch.add_column(sa.Column("run_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.create_foreign_key("fk_attestation_run_id_run", "run", ["run_id"], ["id"])
        batch.create_index("ix_attestation_run_id", ["run_id"])
    op.create_table(
        "nc_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nc_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("document", JSON, nullable=False),
        sa.ForeignKeyConstraint(["nc_id"], ["nonconformity.id"]),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("nc_id", "version", name="uq_nc_version"),
    )
    op.create_index("ix_nc_version_nc_id", "nc_version", ["nc_id"])
    op.create_index("ix_nc_version_run_id", "nc_version", ["run_id"])


def downgrade() -> None:
    op.drop_table("nc_version")
    with op.batch_alter_table("attestation") as batch:
        batch.drop_index("ix_attestation_run_id")
        batch.drop_constraint("fk_attestation_run_id_run", type_="foreignkey")
        batch.drop_column("hash")
        batch.drop_column("run_id")
    with op.batch_alter_table("nc_transition") as batch:
        batch.drop_column("hash")
    with op.batch_alter_table("nonconformity") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("run") as batch:
        batch.drop_column("signature")
        batch.drop_column("seal")
