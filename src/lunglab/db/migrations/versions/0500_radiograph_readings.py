"""radiograph readings: RSNA category and Brixia / RALE scores per reader

Revision ID: 0500_radiograph_readings
Revises: 0400_labelmap_slices
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0500_radiograph_readings"
down_revision = "0400_labelmap_slices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "radiograph_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("brixia", sa.JSON(), nullable=True),
        sa.Column("rale", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"],
                                name=op.f("fk_radiograph_readings_study_id_studies"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_radiograph_readings_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_radiograph_readings")),
        sa.UniqueConstraint("study_id", "user_id",
                            name=op.f("uq_radiograph_readings_study_id")),
    )
    op.create_index(op.f("ix_radiograph_readings_study_id"), "radiograph_readings",
                    ["study_id"])
    op.create_index(op.f("ix_radiograph_readings_user_id"), "radiograph_readings", ["user_id"])


def downgrade() -> None:
    op.drop_table("radiograph_readings")
