"""Vendor capability assessments rated in the browser (issue 13): ``vendor_assessment`` (a vendor, a model, a
round; draft → published with the rating frozen), ``vendor_answer`` (the rubric step or value per indicator),
``vendor_evidence`` (evidence files kept byte for byte with their SHA-256) and ``vendor_assessment_event``
(who changed what, when).

Revision ID: 0011_vendor_assessments
Revises: 0008_institution_fields
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011_vendor_assessments"
down_revision = "0010_publication"
branch_labels = None
depends_on = None

# Frozen copies of the model's types and value lists: a migration must not change when the models do.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
UTC = sa.DateTime(timezone=True)
STATUSES = ("draft", "published")
PROVIDER_TYPES = ("comprehensive", "product", "consulting", "outsourcing")


def _or(column: str, values: tuple[str, ...]) -> str:
    return " OR ".join(f"{column} = '{v}'" for v in values)


def upgrade() -> None:
    op.create_table(
        "vendor_assessment",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("vendor_id", sa.String(64), nullable=False),
        sa.Column("framework", sa.String(64), nullable=False),
        sa.Column("framework_version", sa.String(32), nullable=False),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("round", sa.String(32), nullable=False),
        sa.Column("provider_type", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), server_default="draft", nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("published_by", sa.String(200), nullable=True),
        sa.Column("published_at", UTC, nullable=True),
        sa.Column("level", sa.Integer(), nullable=True),
        sa.Column("total", sa.Double(), nullable=True),
        sa.Column("rating", Json, nullable=True),
        sa.CheckConstraint(_or("status", STATUSES), name=op.f("ck_vendor_assessment_status")),
        sa.CheckConstraint(_or("provider_type", PROVIDER_TYPES), name=op.f("ck_vendor_assessment_provider_type")),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"], name=op.f("fk_vendor_assessment_vendor_id_vendor")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_assessment")),
        sa.UniqueConstraint("vendor_id", "framework", "model", "round", name="uq_vendor_assessment_key"),
    )
    op.create_index(op.f("ix_vendor_assessment_vendor_id"), "vendor_assessment", ["vendor_id"])
    op.create_table(
        "vendor_answer",
        sa.Column("assessment_id", BigId, nullable=False),
        sa.Column("indicator", sa.String(32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("evidence_ref", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["vendor_assessment.id"],
                                name=op.f("fk_vendor_answer_assessment_id_vendor_assessment"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("assessment_id", "indicator", name=op.f("pk_vendor_answer")),
    )
    op.create_table(
        "vendor_evidence",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("assessment_id", BigId, nullable=False),
        sa.Column("indicator", sa.String(32), nullable=False),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=False),
        sa.Column("uploaded_at", UTC, nullable=False),
        sa.Column("withdrawn_by", sa.String(200), nullable=True),
        sa.Column("withdrawn_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(["assessment_id"], ["vendor_assessment.id"],
                                name=op.f("fk_vendor_evidence_assessment_id_vendor_assessment"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_evidence")),
        sa.UniqueConstraint("assessment_id", "indicator", "sha256", name="uq_vendor_evidence_key"),
    )
    op.create_index("ix_vendor_evidence_assessment", "vendor_evidence", ["assessment_id", "indicator"])
    op.create_table(
        "vendor_assessment_event",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("assessment_id", BigId, nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.Column("who", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("indicator", sa.String(32), nullable=True),
        sa.Column("old", Json, nullable=True),
        sa.Column("new", Json, nullable=True),
        sa.ForeignKeyConstraint(["assessment_id"], ["vendor_assessment.id"],
                                name=op.f("fk_vendor_assessment_event_assessment_id_vendor_assessment"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_assessment_event")),
    )
    op.create_index("ix_vendor_assessment_event_assessment", "vendor_assessment_event", ["assessment_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_vendor_assessment_event_assessment", table_name="vendor_assessment_event")
    op.drop_table("vendor_assessment_event")
    op.drop_index("ix_vendor_evidence_assessment", table_name="vendor_evidence")
    op.drop_table("vendor_evidence")
    op.drop_table("vendor_answer")
    op.drop_index(op.f("ix_vendor_assessment_vendor_id"), table_name="vendor_assessment")
    op.drop_table("vendor_assessment")
