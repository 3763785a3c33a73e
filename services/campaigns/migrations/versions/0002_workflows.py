"""Workflows, their runs, and the contacts' birthdays and time zones their date triggers read.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LIVE = "live IS NOT NULL"


def upgrade():
    op.create_table(
        "workflows",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=False),
        sa.Column("trigger_key", sa.String(length=140), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflows")),
    )
    op.create_index(op.f("ix_workflows_status"), "workflows", ["status"])
    op.create_index(op.f("ix_workflows_trigger_key"), "workflows", ["trigger_key"])
    op.create_table(
        "workflow_runs",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("workflow_id", sa.String(length=26), nullable=False),
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("live", sa.String(length=26), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("step", sa.String(length=200), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cause", sa.JSON(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_runs")),
        sa.UniqueConstraint("workflow_id", "live", name=op.f("uq_workflow_runs_workflow_id_live")),
    )
    op.create_index(
        "ix_workflow_runs_live_due_at",
        "workflow_runs",
        ["due_at"],
        postgresql_where=sa.text(LIVE),
        sqlite_where=sa.text(LIVE),
    )
    op.create_index(
        op.f("ix_workflow_runs_workflow_id_contact_id"),
        "workflow_runs",
        ["workflow_id", "contact_id"],
    )
    op.create_index(op.f("ix_workflow_runs_contact_id"), "workflow_runs", ["contact_id"])
    op.create_table(
        "contact_dates",
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("birthday", sa.String(length=5), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_contact_dates")),
    )
    op.create_index("ix_contact_dates_birthday_timezone", "contact_dates", ["birthday", "timezone"])


def downgrade():
    op.drop_table("contact_dates")
    op.drop_table("workflow_runs")
    op.drop_table("workflows")
