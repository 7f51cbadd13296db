"""Institution register fields the rounds need (issue 11): ``city_code`` (GB/T 2260, six digits),
``credit_code`` (统一社会信用代码, GB 32100-2015, unique), ``licence_no`` (金融许可证号) and ``status``
(active/closed; existing institutions become active).

Revision ID: 0008_institution_fields
Revises: 0007_registers
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_institution_fields"
down_revision = "0007_registers"
branch_labels = None
depends_on = None

# Frozen copy of the model's value list: a migration must not change when the models do.
STATUSES = ("active", "closed")


def upgrade() -> None:
    with op.batch_alter_table("institution") as b:
        b.add_column(sa.Column("city_code", sa.String(6), nullable=True))
        b.add_column(sa.Column("credit_code", sa.String(18), nullable=True))
        b.add_column(sa.Column("licence_no", sa.String(64), nullable=True))
        b.add_column(sa.Column("status", sa.String(16), server_default="active", nullable=False))
        b.create_check_constraint(op.f("ck_institution_city_code"), "city_code IS NULL OR length(city_code) = 6")
        b.create_check_constraint(op.f("ck_institution_credit_code"), "credit_code IS NULL OR length(credit_code) = 18")
        b.create_check_constraint(op.f("ck_institution_status"), " OR ".join(f"status = '{s}'" for s in STATUSES))
        b.create_unique_constraint("uq_institution_credit_code", ["credit_code"])


def downgrade() -> None:
    with op.batch_alter_table("institution") as b:
        b.drop_constraint("uq_institution_credit_code", type_="unique")
        b.drop_constraint(op.f("ck_institution_status"), type_="check")
        b.drop_constraint(op.f("ck_institution_credit_code"), type_="check")
        b.drop_constraint(op.f("ck_institution_city_code"), type_="check")
        b.drop_column("status")
        b.drop_column("licence_no")
        b.drop_column("credit_code")
        b.drop_column("city_code")
