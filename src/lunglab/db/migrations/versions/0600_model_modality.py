"""model and validation-split modality: CT and chest-radiograph models side by side

A project may now hold an active CT model and an active radiograph model at once (the partial
unique index covers ``(project_id, modality)``), and a frozen validation split per modality.
Existing rows are CT (``server_default 'ct'``).

Revision ID: 0600_model_modality
Revises: 0500_radiograph_readings
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0600_model_modality"
down_revision = "0500_radiograph_readings"
branch_labels = None
depends_on = None

ACTIVE = sa.text("state = 'active'")


def upgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("modality", sa.String(8), nullable=False,
                                   server_default="ct"))
    op.drop_index("uq_model_versions_active", table_name="model_versions")
    op.create_index("uq_model_versions_active", "model_versions", ["project_id", "modality"],
                    unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE)
    with op.batch_alter_table("validation_splits") as batch:
        batch.add_column(sa.Column("modality", sa.String(8), nullable=False,
                                   server_default="ct"))
        batch.drop_constraint("uq_validation_splits_project_id", type_="unique")
        batch.create_unique_constraint("uq_validation_splits_project_id_modality",
                                       ["project_id", "modality"])


def downgrade() -> None:
    op.execute("DELETE FROM validation_splits WHERE modality <> 'ct'")
    op.execute("DELETE FROM model_versions WHERE modality <> 'ct'")
    with op.batch_alter_table("validation_splits") as batch:
        batch.drop_constraint("uq_validation_splits_project_id_modality", type_="unique")
        batch.create_unique_constraint("uq_validation_splits_project_id", ["project_id"])
        batch.drop_column("modality")
    op.drop_index("uq_model_versions_active", table_name="model_versions")
    with op.batch_alter_table("model_versions") as batch:
        batch.drop_column("modality")
    op.create_index("uq_model_versions_active", "model_versions", ["project_id"], unique=True,
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)
