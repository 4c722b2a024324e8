"""The initial schema: runs, content-addressed evidence and results, check runs, NCs, leases.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TABLES = (
    "nc_transition",
    "tree_entry",
    "result",
    "observation",
    "nonconformity",
    "lease",
    "check_run",
    "attestation",
    "tree",
    "run",
    "result_set",
    "blob",
    "attachment",
)


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("hash"),
    )
    op.create_table(
        "blob",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("hash"),
    )
    op.create_table(
        "result_set",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hash"),
    )
    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("heartbeat_at", UTC_TIME, nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("agent_version", sa.String(length=64), nullable=False),
        sa.Column("selection", JSON, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("root_hash", sa.String(length=64), nullable=True),
        sa.Column("prev_root_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("prev_root_hash"),
        sa.UniqueConstraint("root_hash"),
        sa.UniqueConstraint("uid"),
    )
    op.create_index("ix_run_status", "run", ["status"])

    op.create_table(
        "tree",
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hash"),
    )
    op.create_table(
        "attestation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("control_id", sa.String(length=16), nullable=False),
        sa.Column("attachment", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["attachment"],
            ["attachment.hash"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attestation_attachment", "attestation", ["attachment"])
    op.create_index("ix_attestation_control_id", "attestation", ["control_id"])

    op.create_table(
        "check_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=512), nullable=False),
        sa.Column("evaluated_at", UTC_TIME, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("errored", sa.Integer(), nullable=False),
        sa.Column("not_applicable", sa.Integer(), nullable=False),
        sa.Column("result_set", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["result_set"],
            ["result_set.hash"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hash"),
    )
    op.create_index("ix_check_run_latest", "check_run", ["check_id", "scope", "evaluated_at"])
    op.create_index("ix_check_run_result_set", "check_run", ["result_set"])
    op.create_index("ix_check_run_run_id", "check_run", ["run_id"])

    op.create_table(
        "lease",
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("acquired_at", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
        ),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_lease_holder", "lease", ["holder"])

    op.create_table(
        "nonconformity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=512), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("controls", JSON, nullable=False),
        sa.Column("suggested_severity", sa.String(length=8), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("first_seen", UTC_TIME, nullable=False),
        sa.Column("last_seen", UTC_TIME, nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.Column("failing_resources", JSON, nullable=False),
        sa.Column("evidence_hashes", JSON, nullable=False),
        sa.Column("ready_for_verification", sa.Boolean(), nullable=False),
        sa.Column("nature", sa.Text(), nullable=True),
        sa.Column("correction", sa.Text(), nullable=True),
        sa.Column("root_cause", sa.Text(), nullable=True),
        sa.Column("corrective_action", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("effectiveness_review", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["last_run_id"],
            ["run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("check_id", "scope", name="uq_nc_check_scope"),
    )
    op.create_index("ix_nonconformity_state", "nonconformity", ["state"])

    op.create_table(
        "observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=False),
        sa.Column("scope", sa.String(length=512), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("collected_at", UTC_TIME, nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("tree_hash", sa.String(length=64), nullable=True),
        sa.Column("agent_version", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
        ),
        sa.ForeignKeyConstraint(
            ["tree_hash"],
            ["tree.hash"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hash"),
    )
    op.create_index("ix_observation_latest", "observation", ["source", "scope", "collected_at"])
    op.create_index("ix_observation_run_id", "observation", ["run_id"])
    op.create_index("ix_observation_tree_hash", "observation", ["tree_hash"])

    op.create_table(
        "result",
        sa.Column("set_hash", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=1024), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["set_hash"],
            ["result_set.hash"],
        ),
        sa.PrimaryKeyConstraint("set_hash", "resource_id"),
    )
    op.create_table(
        "tree_entry",
        sa.Column("tree_hash", sa.String(length=64), nullable=False),
        sa.Column("resource_id", sa.String(length=1024), nullable=False),
        sa.Column("blob_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["blob_hash"],
            ["blob.hash"],
        ),
        sa.ForeignKeyConstraint(
            ["tree_hash"],
            ["tree.hash"],
        ),
        sa.PrimaryKeyConstraint("tree_hash", "resource_id"),
    )
    op.create_index("ix_tree_entry_blob_hash", "tree_entry", ["blob_hash"])

    op.create_table(
        "nc_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nc_id", sa.Integer(), nullable=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["nc_id"],
            ["nonconformity.id"],
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_nc_transition_nc_id", "nc_transition", ["nc_id"])


def downgrade() -> None:
    for table in TABLES:  # children first
        op.drop_table(table)
