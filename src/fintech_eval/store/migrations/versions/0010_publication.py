"""What a published run shows an institution's submitter of its peers (issue 13): ``peer_visibility`` of
``evaluation_run``: ``distribution`` (anonymised: quartiles and a histogram of the peers' scores, no names; the
default, also for runs published before this revision), ``ranking`` (the full named ranking) or ``none``.

Revision ID: 0010_publication
Revises: 0008_institution_fields
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_publication"
down_revision = "0009_campaign_staff"
branch_labels = None
depends_on = None

# Frozen copy of the model's value list: a migration must not change when the models do.
VISIBILITIES = ("distribution", "ranking", "none")


def upgrade() -> None:
    with op.batch_alter_table("evaluation_run") as b:
        b.add_column(sa.Column("peer_visibility", sa.String(16), server_default="distribution", nullable=False))
        b.create_check_constraint(op.f("ck_evaluation_run_peer_visibility"),
                                  " OR ".join(f"peer_visibility = '{v}'" for v in VISIBILITIES))


def downgrade() -> None:
    with op.batch_alter_table("evaluation_run") as b:
        b.drop_constraint(op.f("ck_evaluation_run_peer_visibility"), type_="check")
        b.drop_column("peer_visibility")
