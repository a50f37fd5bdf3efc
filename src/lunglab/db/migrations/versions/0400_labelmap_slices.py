"""label maps stored as content-addressed slices in the database

Versions saved from now on list one slice digest per z (``manifest``) and their slices live in
``labelmap_slices``, once per study; older versions keep their whole-volume NIfTI (``manifest``
NULL) and stay readable.

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
    op.create_table(
        "labelmap_slices",
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"],
                                name=op.f("fk_labelmap_slices_study_id_studies"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("study_id", "digest", name=op.f("pk_labelmap_slices")),
    )


def downgrade() -> None:
    op.drop_table("labelmap_slices")
    with op.batch_alter_table("labelmap_versions") as batch:
        batch.drop_column("manifest")
