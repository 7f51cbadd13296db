"""Evaluators' assignment to campaigns (``campaign_staff``: an evaluator sees the campaigns it is assigned to)
and the campaign an invitation was sent for (``invitation.campaign_id``, NULL for one sent outside a campaign).

Revision ID: 0009_campaign_staff
Revises: 0008_institution_fields
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_campaign_staff"
down_revision = "0008_institution_fields"
branch_labels = None
depends_on = None

# Frozen copies of the model's types: a migration must not change when the models do.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign_staff",
        sa.Column("campaign_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("added_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"], name=op.f("fk_campaign_staff_campaign_id_campaign"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_campaign_staff_user_id_user_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "user_id", name=op.f("pk_campaign_staff")),
    )
    op.create_index(op.f("ix_campaign_staff_user_id"), "campaign_staff", ["user_id"])
    with op.batch_alter_table("invitation") as b:
        b.add_column(sa.Column("campaign_id", BigId, nullable=True))
        b.create_foreign_key(op.f("fk_invitation_campaign_id_campaign"), "campaign", ["campaign_id"], ["id"],
                             ondelete="SET NULL")
        b.create_index(op.f("ix_invitation_campaign_id"), ["campaign_id"])


def downgrade() -> None:
    with op.batch_alter_table("invitation") as b:
        b.drop_index(op.f("ix_invitation_campaign_id"))
        b.drop_constraint(op.f("fk_invitation_campaign_id_campaign"), type_="foreignkey")
        b.drop_column("campaign_id")
    op.drop_index(op.f("ix_campaign_staff_user_id"), table_name="campaign_staff")
    op.drop_table("campaign_staff")
