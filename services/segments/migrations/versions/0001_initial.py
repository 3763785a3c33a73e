"""Segment definitions, the dependency index, membership, the projection (profiles,
their flags and variables, daily activity counts), seen events, erased contacts, the
outbox.

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
        "activity_counts",
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "contact_id",
            "day",
            "channel",
            "type",
            "name",
            "origin",
            name=op.f("pk_activity_counts"),
        ),
    )
    op.create_table(
        "erased_contacts",
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_erased_contacts")),
    )
    op.create_table(
        "memberships",
        sa.Column("segment_id", sa.String(length=26), nullable=False),
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", "contact_id", name=op.f("pk_memberships")),
    )
    op.create_index("ix_memberships_contact_id", "memberships", ["contact_id"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_table(
        "profile_flags",
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", "kind", "key", name=op.f("pk_profile_flags")),
    )
    op.create_index("ix_profile_flags_kind_key", "profile_flags", ["kind", "key"], unique=False)
    op.create_table(
        "profile_variables",
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("text_value", sa.String(length=1000), nullable=True),
        sa.Column("number_value", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("contact_id", "name", name=op.f("pk_profile_variables")),
    )
    op.create_index("ix_profile_variables_name", "profile_variables", ["name"], unique=False)
    op.create_table(
        "profiles",
        sa.Column("contact_id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("birthday_md", sa.String(length=5), nullable=True),
        sa.Column("gender", sa.Float(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("avatar_url", sa.String(length=2048), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("contact_score", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_profiles")),
    )
    op.create_index(op.f("ix_profiles_birthday_md"), "profiles", ["birthday_md"], unique=False)
    op.create_table(
        "seen_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_seen_events")),
    )
    op.create_index(op.f("ix_seen_events_seen_at"), "seen_events", ["seen_at"], unique=False)
    op.create_table(
        "segment_dependencies",
        sa.Column("kind", sa.String(length=120), nullable=False),
        sa.Column("segment_id", sa.String(length=26), nullable=False),
        sa.PrimaryKeyConstraint("kind", "segment_id", name=op.f("pk_segment_dependencies")),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("time_based", sa.Boolean(), nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
    )


def downgrade():
    op.drop_table("segments")
    op.drop_table("segment_dependencies")
    op.drop_index(op.f("ix_seen_events_seen_at"), table_name="seen_events")
    op.drop_table("seen_events")
    op.drop_index(op.f("ix_profiles_birthday_md"), table_name="profiles")
    op.drop_table("profiles")
    op.drop_index("ix_profile_variables_name", table_name="profile_variables")
    op.drop_table("profile_variables")
    op.drop_index("ix_profile_flags_kind_key", table_name="profile_flags")
    op.drop_table("profile_flags")
    op.drop_table("outbox")
    op.drop_index("ix_memberships_contact_id", table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("erased_contacts")
    op.drop_table("activity_counts")
