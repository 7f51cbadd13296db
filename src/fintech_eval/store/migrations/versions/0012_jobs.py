"""Background jobs (issue 13): ``job``, the queue of work done outside the request that asked for it (scoring a
campaign first): its kind and JSON parameters, its state (queued → running → succeeded / failed / cancelled),
who asked, when it was created, started and finished, its progress and step, the worker's heartbeat, what it
made (``result_ref``) or why it failed (``error_rule``, ``error_message``).

Revision ID: 0012_jobs
Revises: 0011_vendor_assessments
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0012_jobs"
down_revision = "0011_vendor_assessments"
branch_labels = None
depends_on = None

# Frozen copies of the model's types and value lists: a migration must not change when the models do.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC = sa.DateTime(timezone=True)
STATES = ("queued", "running", "succeeded", "failed", "cancelled")


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("params", Json, nullable=False),
        sa.Column("state", sa.String(16), server_default="queued", nullable=False),
        sa.Column("campaign_id", BigId, nullable=True),
        sa.Column("requested_by", sa.String(254), nullable=False),
        sa.Column("requested_by_id", BigId, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("started_at", UTC, nullable=True),
        sa.Column("finished_at", UTC, nullable=True),
        sa.Column("heartbeat_at", UTC, nullable=True),
        sa.Column("worker", sa.String(200), nullable=True),
        sa.Column("progress", sa.Double(), server_default="0", nullable=False),
        sa.Column("step", sa.String(500), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("result_ref", sa.String(200), nullable=True),
        sa.Column("error_rule", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.CheckConstraint(" OR ".join(f"state = '{v}'" for v in STATES), name=op.f("ck_job_state")),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name=op.f("ck_job_progress")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f("fk_job_campaign_id_campaign")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index("ix_job_state_id", "job", ["state", "id"])
    op.create_index(op.f("ix_job_campaign_id"), "job", ["campaign_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_job_campaign_id"), table_name="job")
    op.drop_index("ix_job_state_id", table_name="job")
    op.drop_table("job")
