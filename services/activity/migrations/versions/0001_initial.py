"""The feed, orders, erased contacts, the outbox.

On PostgreSQL the feed is partitioned by month of occurred_at (docs/activity.md): a
partition per month made ahead of time by activity_ensure_partitions(), and a default
partition for anything outside them. On SQLite it is one plain table.

Constraint names follow plexus.db.NAMING_CONVENTION.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Months made now around today; the service makes the next ones as time goes
# (logic/partitions.py), and the function moves rows out of the default partition
# when a month is added late.
MONTHS_BEFORE, MONTHS_AHEAD = 1, 3

FEED_COLUMNS = (
    ("id", sa.String(26), False),
    ("contact_id", sa.String(26), False),
    ("occurred_at", sa.DateTime(timezone=True), False),
    ("channel", sa.String(20), False),
    ("origin", sa.String(16), True),
    ("type", sa.String(32), False),
    ("name", sa.String(100), True),
    ("message_id", sa.String(64), True),
    ("details", sa.JSON(), False),
    ("source_event_id", sa.String(64), True),
    ("recorded_at", sa.DateTime(timezone=True), False),
)

PARTITIONED_FEED = """
CREATE TABLE activity_items (
    id VARCHAR(26) NOT NULL,
    contact_id VARCHAR(26) NOT NULL,
    occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
    channel VARCHAR(20) NOT NULL,
    origin VARCHAR(16),
    type VARCHAR(32) NOT NULL,
    name VARCHAR(100),
    message_id VARCHAR(64),
    details JSON NOT NULL,
    source_event_id VARCHAR(64),
    recorded_at TIMESTAMP WITH TIME ZONE NOT NULL,
    -- A partitioned table's keys must hold the partition key.
    CONSTRAINT pk_activity_items PRIMARY KEY (id, occurred_at),
    CONSTRAINT uq_activity_items_source_event_id_occurred_at
        UNIQUE (source_event_id, occurred_at)
) PARTITION BY RANGE (occurred_at)
"""

# activity_ensure_partitions(first, last): a partition for each month from first to last
# (dates; any day of the month), made where missing. A month whose rows already went to
# the default partition gets them moved into its new partition in the same transaction.
ENSURE_PARTITIONS = """
CREATE OR REPLACE FUNCTION activity_ensure_partitions(first_month date, last_month date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    month date := date_trunc('month', first_month);
    low timestamptz;
    high timestamptz;
    partition text;
    made integer := 0;
BEGIN
    WHILE month <= last_month LOOP
        partition := format('activity_items_p%s', to_char(month, 'YYYYMM'));
        low := month::timestamp AT TIME ZONE 'UTC';
        high := (month + interval '1 month')::timestamp AT TIME ZONE 'UTC';
        IF to_regclass(format('%I.%I', current_schema(), partition)) IS NULL THEN
            EXECUTE format('CREATE TABLE %I (LIKE activity_items INCLUDING DEFAULTS)',
                           partition);
            EXECUTE format('WITH moved AS (DELETE FROM activity_items_default '
                           'WHERE occurred_at >= %L AND occurred_at < %L RETURNING *) '
                           'INSERT INTO %I SELECT * FROM moved', low, high, partition);
            EXECUTE format('ALTER TABLE activity_items ATTACH PARTITION %I '
                           'FOR VALUES FROM (%L) TO (%L)', partition, low, high);
            made := made + 1;
        END IF;
        month := month + interval '1 month';
    END LOOP;
    RETURN made;
END
$$
"""


def _feed_indexes() -> None:
    # On the partitioned parent these are made on every partition, present and future.
    op.execute(
        "CREATE INDEX ix_activity_items_feed "
        "ON activity_items (contact_id, occurred_at DESC, id DESC)"
    )
    op.execute(
        "CREATE INDEX ix_activity_items_channel_feed "
        "ON activity_items (contact_id, channel, occurred_at DESC, id DESC)"
    )


def _plain_feed() -> None:
    op.create_table(
        "activity_items",
        *(sa.Column(name, kind, nullable=nullable) for name, kind, nullable in FEED_COLUMNS),
        sa.PrimaryKeyConstraint("id", name="pk_activity_items"),
        sa.UniqueConstraint(
            "source_event_id", "occurred_at", name="uq_activity_items_source_event_id_occurred_at"
        ),
    )


def _partitioned_feed() -> None:
    op.execute(PARTITIONED_FEED)
    op.execute("CREATE TABLE activity_items_default PARTITION OF activity_items DEFAULT")
    op.execute(ENSURE_PARTITIONS)
    op.execute(
        f"SELECT activity_ensure_partitions("
        f"(current_date - interval '{MONTHS_BEFORE} month')::date, "
        f"(current_date + interval '{MONTHS_AHEAD} month')::date)"
    )


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        _partitioned_feed()
    else:
        _plain_feed()
    _feed_indexes()
    op.create_table(
        "orders",
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("item_id", sa.String(26), nullable=False),
        sa.Column("contact_id", sa.String(26), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("external_id", name="pk_orders"),
    )
    op.create_index("ix_orders_contact_id", "orders", ["contact_id"])
    op.create_table(
        "erased_contacts",
        sa.Column("contact_id", sa.String(26), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("contact_id", name="pk_erased_contacts"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )


def downgrade():
    op.drop_table("outbox")
    op.drop_table("erased_contacts")
    op.drop_index("ix_orders_contact_id", table_name="orders")
    op.drop_table("orders")
    op.drop_table("activity_items")  # its partitions go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS activity_ensure_partitions(date, date)")
