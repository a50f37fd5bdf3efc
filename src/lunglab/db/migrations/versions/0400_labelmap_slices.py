"""label maps stored as content-addressed slices: a manifest column on label-map versions

Versions saved from now on list one slice digest per z (``manifest``); older versions keep
their whole-volume NIfTI (``manifest`` NULL) and stay readable.

Revision ID: 0400_labelmap_slices
Revises: 0200_collab, 0300_training
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0400_labelmap_slices"
down_revision = ("0200_collab", "0300_training")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("labelmap_versions") as batch:
        batch.add_column(sa.Column("manifest", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("labelmap_versions") as batch:
        batch.drop_column("manifest")
