"""collaboration: assignment progress, heartbeats, review comments and decisions, agreement cache

Revision ID: 0200_collab
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0200_collab"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _fk(col: str, table: str, src: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([col], [f"{table}.id"], name=op.f(f"fk_{src}_{col}_{table}"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "assignment_progress",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("start_from", sa.String(16), nullable=True),
        sa.Column("start_version_id", sa.Integer(), nullable=True),
        sa.Column("submitted_version_id", sa.Integer(), nullable=True),
        sa.Column("active_seconds", sa.Float(), nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("last_heartbeat_at", TS, nullable=True),
        _fk("assignment_id", "assignments", "assignment_progress", "CASCADE"),
        _fk("start_version_id", "labelmap_versions", "assignment_progress", "SET NULL"),
        _fk("submitted_version_id", "labelmap_versions", "assignment_progress", "SET NULL"),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_assignment_progress")),
    )
    op.create_table(
        "activity_heartbeats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("at", TS, nullable=False),
        _fk("assignment_id", "assignments", "activity_heartbeats", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_heartbeats")),
    )
    op.create_index(op.f("ix_activity_heartbeats_assignment_id"), "activity_heartbeats",
                    ["assignment_id"])
    op.create_table(
        "review_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("slice_index", sa.Integer(), nullable=True),
        sa.Column("position", sa.JSON(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        _fk("study_id", "studies", "review_comments", "CASCADE"),
        _fk("assignment_id", "assignments", "review_comments", "CASCADE"),
        _fk("version_id", "labelmap_versions", "review_comments", "SET NULL"),
        _fk("author_id", "users", "review_comments", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_comments")),
    )
    op.create_index(op.f("ix_review_comments_study_id"), "review_comments", ["study_id"])
    op.create_index(op.f("ix_review_comments_assignment_id"), "review_comments",
                    ["assignment_id"])
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _fk("study_id", "studies", "review_decisions", "CASCADE"),
        _fk("assignment_id", "assignments", "review_decisions", "CASCADE"),
        _fk("version_id", "labelmap_versions", "review_decisions", "SET NULL"),
        _fk("reviewer_id", "users", "review_decisions", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
    )
    op.create_index(op.f("ix_review_decisions_study_id"), "review_decisions", ["study_id"])
    op.create_index(op.f("ix_review_decisions_assignment_id"), "review_decisions",
                    ["assignment_id"])
    op.create_table(
        "agreement_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("version_key", sa.String(400), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _fk("study_id", "studies", "agreement_results", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_results")),
    )
    op.create_index(op.f("ix_agreement_results_study_id"), "agreement_results", ["study_id"])


def downgrade() -> None:
    for table in ("agreement_results", "review_decisions", "review_comments",
                  "activity_heartbeats", "assignment_progress"):
        op.drop_table(table)
