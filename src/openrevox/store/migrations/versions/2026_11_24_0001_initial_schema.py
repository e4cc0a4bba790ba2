"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 10:27:15.410137
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import openrevox.store.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "concurrency_slots",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.String(length=36), nullable=False),
        sa.Column("expires_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "slot", name=op.f("pk_concurrency_slots")),
    )
    with op.batch_alter_table("concurrency_slots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_concurrency_slots_attempt_id"), ["attempt_id"], unique=False
        )

    op.create_table(
        "organizations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("concurrency_limit", sa.Integer(), nullable=False),
        sa.Column("webhook_secret", sa.String(length=100), nullable=False),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
    )
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_secrets")),
    )
    op.create_table(
        "sim_ledger",
        sa.Column("attempt_id", sa.String(length=36), nullable=False),
        sa.Column("call_order_id", sa.String(length=36), nullable=False),
        sa.Column("phone_number", sa.String(length=32), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("behaviour", sa.String(length=40), nullable=False),
        sa.Column("worker_id", sa.String(length=64), nullable=False),
        sa.Column("dialed_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("attempt_id", name=op.f("pk_sim_ledger")),
    )
    with op.batch_alter_table("sim_ledger", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sim_ledger_call_order_id"), ["call_order_id"], unique=False
        )

    op.create_table(
        "assistant_snapshots",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column(
            "content",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_assistant_snapshots_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_snapshots")),
    )
    op.create_table(
        "assistants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column(
            "config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_assistants_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistants")),
    )
    with op.batch_alter_table("assistants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assistants_organization_id_mode_created_at"),
            ["organization_id", "mode", "created_at"],
            unique=False,
        )

    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("assistant_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("is_cancelled", sa.Boolean(), nullable=False),
        sa.Column(
            "call_retry_config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("from_phone_number", sa.String(length=32), nullable=True),
        sa.Column("max_concurrent_calls", sa.Integer(), nullable=True),
        sa.Column("scheduled_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_campaigns_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaigns_organization_id_mode_created_at"),
            ["organization_id", "mode", "created_at"],
            unique=False,
        )

    op.create_table(
        "cloned_voices",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("provider", sa.String(length=12), nullable=False),
        sa.Column("provider_voice_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("sample_key", sa.String(length=300), nullable=True),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_cloned_voices_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloned_voices")),
    )
    with op.batch_alter_table("cloned_voices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cloned_voices_organization_id_mode"),
            ["organization_id", "mode"],
            unique=False,
        )

    op.create_table(
        "concurrency_keys",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("max_concurrent_calls", sa.Integer(), nullable=False),
        sa.Column("updated_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_concurrency_keys_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "mode", "key", name=op.f("pk_concurrency_keys")),
    )
    op.create_table(
        "do_not_contact",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("phone_number", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_do_not_contact_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "mode", "phone_number", name=op.f("pk_do_not_contact")
        ),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=True),
        sa.Column("last_name", sa.String(length=200), nullable=True),
        sa.Column("has_completed_onboarding", sa.Boolean(), nullable=False),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_users_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("call_order_id", sa.String(length=36), nullable=False),
        sa.Column("attempt_id", sa.String(length=36), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_webhook_events_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_events")),
    )
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_events_call_order_id"), ["call_order_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_events_organization_id_mode_created_at"),
            ["organization_id", "mode", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_webhook_events_status_next_attempt_at"),
            ["status", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "webhook_settings",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("per_attempt_events", sa.Boolean(), nullable=False),
        sa.Column("updated_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_webhook_settings_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("organization_id", "mode", name=op.f("pk_webhook_settings")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("lookup", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_api_keys_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_api_keys_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("lookup", name=op.f("uq_api_keys_lookup")),
    )
    op.create_table(
        "call_orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("assistant_id", sa.String(length=36), nullable=True),
        sa.Column("campaign_id", sa.String(length=36), nullable=True),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("to_phone_number", sa.String(length=32), nullable=False),
        sa.Column("from_phone_number", sa.String(length=32), nullable=False),
        sa.Column("snapshot_id", sa.String(length=36), nullable=False),
        sa.Column(
            "call_retry_config",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "prompt_variables",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("concurrency_key", sa.String(length=200), nullable=True),
        sa.Column("concurrency_max", sa.Integer(), nullable=True),
        sa.Column("skip_calling_window", sa.Boolean(), nullable=False),
        sa.Column("scheduled_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "next_attempt_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("calls_count", sa.Integer(), nullable=False),
        sa.Column("last_result", sa.String(length=30), nullable=True),
        sa.Column(
            "last_attempt_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.Column("outcome_summary", sa.Text(), nullable=True),
        sa.Column(
            "contact",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_call_orders_campaign_id_campaigns"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_call_orders_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["assistant_snapshots.id"],
            name=op.f("fk_call_orders_snapshot_id_assistant_snapshots"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_orders")),
    )
    with op.batch_alter_table("call_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_call_orders_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_call_orders_organization_id_mode_created_at"),
            ["organization_id", "mode", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_call_orders_organization_id_to_phone_number"),
            ["organization_id", "to_phone_number"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_call_orders_status_next_attempt_at"),
            ["status", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "faq_items",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("assistant_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("needs_human_answer", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assistant_id"],
            ["assistants.id"],
            name=op.f("fk_faq_items_assistant_id_assistants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_items")),
    )
    with op.batch_alter_table("faq_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_faq_items_assistant_id_position"),
            ["assistant_id", "position"],
            unique=False,
        )

    op.create_table(
        "phone_numbers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("phone_number", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("inbound_assistant_id", sa.String(length=36), nullable=True),
        sa.Column("provider", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbound_assistant_id"],
            ["assistants.id"],
            name=op.f("fk_phone_numbers_inbound_assistant_id_assistants"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_phone_numbers_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_numbers")),
        sa.UniqueConstraint(
            "organization_id",
            "mode",
            "phone_number",
            name=op.f("uq_phone_numbers_organization_id_mode_phone_number"),
        ),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("try_number", sa.Integer(), nullable=False),
        sa.Column("attempted_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("response_excerpt", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["webhook_events.id"],
            name=op.f("fk_webhook_deliveries_event_id_webhook_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_deliveries_event_id_try_number"),
            ["event_id", "try_number"],
            unique=False,
        )

    op.create_table(
        "call_attempts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("call_order_id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("phone_number", sa.String(length=32), nullable=False),
        sa.Column("dial_error", sa.String(length=40), nullable=True),
        sa.Column("result", sa.String(length=30), nullable=True),
        sa.Column("ended_by", sa.String(length=10), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.Column("handled_by_ai", sa.Boolean(), nullable=False),
        sa.Column("handled_by_human", sa.Boolean(), nullable=False),
        sa.Column(
            "transcript",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "structured_output",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("recording_key", sa.String(length=300), nullable=True),
        sa.Column("worker_id", sa.String(length=64), nullable=True),
        sa.Column(
            "lease_expires_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_order_id"],
            ["call_orders.id"],
            name=op.f("fk_call_attempts_call_order_id_call_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_attempts")),
        sa.UniqueConstraint(
            "call_order_id",
            "attempt_number",
            name=op.f("uq_call_attempts_call_order_id_attempt_number"),
        ),
    )
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_call_attempts_organization_id_created_at"),
            ["organization_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_call_attempts_status_lease_expires_at"),
            ["status", "lease_expires_at"],
            unique=False,
        )

    op.create_table(
        "campaign_rows",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("row_index", sa.Integer(), nullable=False),
        sa.Column("phone_number", sa.String(length=32), nullable=False),
        sa.Column(
            "input_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("call_order_id", sa.String(length=36), nullable=True),
        sa.Column("skip_reason", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_order_id"],
            ["call_orders.id"],
            name=op.f("fk_campaign_rows_call_order_id_call_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_rows_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_rows")),
        sa.UniqueConstraint(
            "campaign_id", "row_index", name=op.f("uq_campaign_rows_campaign_id_row_index")
        ),
    )
    with op.batch_alter_table("campaign_rows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_rows_call_order_id"), ["call_order_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("campaign_rows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_rows_call_order_id"))

    op.drop_table("campaign_rows")
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_attempts_status_lease_expires_at"))
        batch_op.drop_index(batch_op.f("ix_call_attempts_organization_id_created_at"))

    op.drop_table("call_attempts")
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_event_id_try_number"))

    op.drop_table("webhook_deliveries")
    op.drop_table("phone_numbers")
    with op.batch_alter_table("faq_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_faq_items_assistant_id_position"))

    op.drop_table("faq_items")
    with op.batch_alter_table("call_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_orders_status_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_call_orders_organization_id_to_phone_number"))
        batch_op.drop_index(batch_op.f("ix_call_orders_organization_id_mode_created_at"))
        batch_op.drop_index(batch_op.f("ix_call_orders_campaign_id"))

    op.drop_table("call_orders")
    op.drop_table("api_keys")
    op.drop_table("webhook_settings")
    with op.batch_alter_table("webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_events_status_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_webhook_events_organization_id_mode_created_at"))
        batch_op.drop_index(batch_op.f("ix_webhook_events_call_order_id"))

    op.drop_table("webhook_events")
    op.drop_table("users")
    op.drop_table("do_not_contact")
    op.drop_table("concurrency_keys")
    with op.batch_alter_table("cloned_voices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cloned_voices_organization_id_mode"))

    op.drop_table("cloned_voices")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaigns_organization_id_mode_created_at"))

    op.drop_table("campaigns")
    with op.batch_alter_table("assistants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistants_organization_id_mode_created_at"))

    op.drop_table("assistants")
    op.drop_table("assistant_snapshots")
    with op.batch_alter_table("sim_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sim_ledger_call_order_id"))

    op.drop_table("sim_ledger")
    op.drop_table("server_secrets")
    op.drop_table("organizations")
    with op.batch_alter_table("concurrency_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concurrency_slots_attempt_id"))

    op.drop_table("concurrency_slots")
