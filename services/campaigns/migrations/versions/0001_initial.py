"""Campaigns, their recipients, the stats counters, seen events.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaign_counters",
        sa.Column("campaign_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=140), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "name", name=op.f("pk_campaign_counters")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("template_id", sa.String(length=26), nullable=False),
        sa.Column("segment_id", sa.String(length=26), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("local_time", sa.String(length=5), nullable=True),
        sa.Column("throttle_per_minute", sa.Integer(), nullable=True),
        sa.Column("ab", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("winner", sa.String(length=100), nullable=True),
        sa.Column("loading", sa.Boolean(), nullable=False),
        sa.Column("audience_cursor", sa.String(length=200), nullable=True),
        sa.Column("audience", sa.Integer(), nullable=True),
        sa.Column("base_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decide_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=True),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(op.f("ix_campaigns_status"), "campaigns", ["status"], unique=False)
    op.create_table(
        "recipients",
        sa.Column("campaign_id", sa.String(length=26), nullable=False),
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("variant", sa.String(length=100), nullable=True),
        sa.Column("rank", sa.BigInteger(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("delivery", sa.String(length=16), nullable=True),
        sa.Column("opened", sa.Boolean(), nullable=False),
        sa.Column("clicked", sa.Boolean(), nullable=False),
        sa.Column("unsubscribed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "contact_id", name=op.f("pk_recipients")),
    )
    op.create_index(
        "ix_recipients_campaign_id_dispatched_at",
        "recipients",
        ["campaign_id", "dispatched_at"],
        unique=False,
    )
    op.create_index(
        "ix_recipients_campaign_id_status_due_at_contact_id",
        "recipients",
        ["campaign_id", "status", "due_at", "contact_id"],
        unique=False,
    )
    op.create_index("ix_recipients_contact_id", "recipients", ["contact_id"], unique=False)
    op.create_table(
        "seen_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_seen_events")),
    )
    op.create_index(op.f("ix_seen_events_seen_at"), "seen_events", ["seen_at"], unique=False)


def downgrade():
    for table in ("seen_events", "recipients", "campaigns", "campaign_counters"):
        op.drop_table(table)
