"""training: model versions with lineage, frozen validation splits, training runs, uncertainty

Revision ID: 0300_training
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0300_training"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _fk(col: str, table: str, src: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f"{table}.id"], name=op.f(f"fk_{src}_{col}_{table}"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "validation_splits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("study_ids", sa.JSON(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        _fk("project_id", "projects", "validation_splits", "CASCADE"),
        _fk("created_by_id", "users", "validation_splits"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_splits")),
        sa.UniqueConstraint("project_id", name=op.f("uq_validation_splits_project_id")),
    )
    op.create_table(
        "training_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("job_ids", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("data_snapshot", sa.JSON(), nullable=False),
        sa.Column("val_study_ids", sa.JSON(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("samples", sa.JSON(), nullable=False),
        sa.Column("checkpoint_dir", sa.String(500), nullable=False),
        sa.Column("checkpoint_epoch", sa.Integer(), nullable=False),
        sa.Column("resumed_from_epoch", sa.Integer(), nullable=True),
        sa.Column("eta_seconds", sa.Float(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _fk("project_id", "projects", "training_runs", "CASCADE"),
        _fk("job_id", "jobs", "training_runs", "SET NULL"),
        _fk("created_by_id", "users", "training_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_runs")),
    )
    op.create_index(op.f("ix_training_runs_project_id"), "training_runs", ["project_id"])
    op.create_index(op.f("ix_training_runs_job_id"), "training_runs", ["job_id"])
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("base_version_id", sa.Integer(), nullable=True),
        sa.Column("base_model", sa.String(200), nullable=True),
        sa.Column("arch", sa.String(32), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("data_snapshot", sa.JSON(), nullable=False),
        sa.Column("val_study_ids", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("comparison", sa.JSON(), nullable=True),
        sa.Column("weights_key", sa.String(300), nullable=False),
        sa.Column("weights_checksum", sa.String(64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("promoted_at", TS, nullable=True),
        sa.Column("promoted_by_id", sa.Integer(), nullable=True),
        sa.Column("promotion_reason", sa.Text(), nullable=True),
        _fk("project_id", "projects", "model_versions", "CASCADE"),
        _fk("base_version_id", "model_versions", "model_versions", "SET NULL"),
        _fk("run_id", "training_runs", "model_versions", "SET NULL"),
        _fk("created_by_id", "users", "model_versions"),
        _fk("promoted_by_id", "users", "model_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("run_id", name=op.f("uq_model_versions_run_id")),
    )
    op.create_index(op.f("ix_model_versions_project_id"), "model_versions", ["project_id"])
    op.create_index("uq_model_versions_active", "model_versions", ["project_id"], unique=True,
                    sqlite_where=sa.text("state = 'active'"),
                    postgresql_where=sa.text("state = 'active'"))
    op.create_table(
        "uncertainty_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("computed_at", TS, nullable=False),
        _fk("project_id", "projects", "uncertainty_scores", "CASCADE"),
        _fk("study_id", "studies", "uncertainty_scores", "CASCADE"),
        _fk("job_id", "jobs", "uncertainty_scores", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uncertainty_scores")),
    )
    op.create_index(op.f("ix_uncertainty_scores_project_id"), "uncertainty_scores",
                    ["project_id"])
    op.create_index(op.f("ix_uncertainty_scores_study_id"), "uncertainty_scores", ["study_id"])


def downgrade() -> None:
    op.drop_table("uncertainty_scores")
    op.drop_index("uq_model_versions_active", table_name="model_versions")
    op.drop_table("model_versions")
    op.drop_table("training_runs")
    op.drop_table("validation_splits")
