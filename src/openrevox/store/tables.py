"""The schema, as SQLAlchemy Core tables. Migrations must match it (tests check)."""

from __future__ import annotations

import sqlalchemy as sa

from openrevox.store.types import UTCDateTime, json_type

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

ID = sa.String(36)
MODE = sa.String(4)  # "live" | "test"

organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("concurrency_limit", sa.Integer, nullable=False),
    sa.Column("webhook_secret", sa.String(100), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("first_name", sa.String(200)),
    sa.Column("last_name", sa.String(200)),
    sa.Column("has_completed_onboarding", sa.Boolean, nullable=False),
    # The dashboard's sign-in: "scrypt$n$r$p$salt$hash" (web/passwords.py); null: none set.
    sa.Column("password_hash", sa.String(200)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("mode", MODE, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    # The first characters of the key, shown in listings and used to find the row.
    sa.Column("lookup", sa.String(32), nullable=False, unique=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
)

assistants = sa.Table(
    "assistants",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("mode", MODE, nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("type", sa.String(20), nullable=False),
    # Every configuration key of the wire Assistant except ids, timestamps and FAQ.
    sa.Column("config", json_type(), nullable=False),
    sa.Column("created_by", ID),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(None, "organization_id", "mode", "created_at"),
)

faq_items = sa.Table(
    "faq_items",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "assistant_id", ID, sa.ForeignKey("assistants.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("needs_human_answer", sa.Boolean, nullable=False),
    sa.Column("source", sa.String(10), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "assistant_id", "position"),
)

campaigns = sa.Table(
    "campaigns",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("mode", MODE, nullable=False),
    sa.Column("assistant_id", ID, nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("is_cancelled", sa.Boolean, nullable=False),
    sa.Column("call_retry_config", json_type()),
    sa.Column("from_phone_number", sa.String(32)),
    sa.Column("max_concurrent_calls", sa.Integer),
    sa.Column("scheduled_at", UTCDateTime),
    sa.Column("created_by", ID),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index(None, "organization_id", "mode", "created_at"),
)

assistant_snapshots = sa.Table(
    "assistant_snapshots",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("content", json_type(), nullable=False),
    # A call shows these two of its snapshot at its top level: kept beside the content so
    # that GET /call/{id} can write the content out as stored, without parsing it.
    sa.Column("first_sentence_delay_ms", sa.Integer),
    sa.Column("llm_model", json_type()),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

call_orders = sa.Table(
    "call_orders",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("mode", MODE, nullable=False),
    sa.Column("assistant_id", ID),
    sa.Column("campaign_id", ID, sa.ForeignKey("campaigns.id", ondelete="SET NULL")),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("to_phone_number", sa.String(32), nullable=False),
    sa.Column("from_phone_number", sa.String(32), nullable=False),
    # The wire Assistant as it was when the order was created (or last re-snapshotted),
    # shared by every order made from the same configuration (a campaign: one row).
    sa.Column("snapshot_id", ID, sa.ForeignKey("assistant_snapshots.id"), nullable=False),
    sa.Column("call_retry_config", json_type(), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("prompt_variables", json_type()),
    sa.Column("metadata", json_type()),
    sa.Column("concurrency_key", sa.String(200)),
    sa.Column("concurrency_max", sa.Integer),
    sa.Column("skip_calling_window", sa.Boolean, nullable=False),
    sa.Column("scheduled_at", UTCDateTime),
    # The hand-off to dispatch: when the next attempt is due (null when none is planned).
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("calls_count", sa.Integer, nullable=False),
    # Denormalized from the newest attempt, for filters and history.
    sa.Column("last_result", sa.String(30)),
    sa.Column("last_attempt_at", UTCDateTime),
    sa.Column("outcome", sa.String(40)),
    sa.Column("outcome_summary", sa.Text),
    sa.Column("contact", json_type(), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # With the id: the lists' order (newest first, id breaking ties) read off the index,
    # never sorted (the dashboard's keyset pages, /call/search).
    sa.Index(None, "organization_id", "mode", "created_at", "id"),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "campaign_id"),
    sa.Index(None, "organization_id", "to_phone_number"),
)

call_attempts = sa.Table(
    "call_attempts",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "call_order_id", ID, sa.ForeignKey("call_orders.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("organization_id", ID, nullable=False),
    sa.Column("attempt_number", sa.Integer, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("phone_number", sa.String(32), nullable=False),
    sa.Column("dial_error", sa.String(40)),
    sa.Column("result", sa.String(30)),
    sa.Column("ended_by", sa.String(10)),
    sa.Column("end_reason", sa.String(40)),
    sa.Column("handled_by_ai", sa.Boolean, nullable=False),
    sa.Column("handled_by_human", sa.Boolean, nullable=False),
    sa.Column("transcript", json_type()),
    sa.Column("structured_output", json_type()),
    sa.Column("recording_key", sa.String(300)),
    # openrevox's own facts about the attempt, beyond the contract's keys: the open JSON
    # object the wire shows as the attempt's ``openrevox`` (domain/attempt_extension.py).
    sa.Column("openrevox", json_type()),
    # The contract's per-turn speech timings (audio: audio/speech_log.py); NULL where
    # the attempt had no conversation, [] at text fidelity.
    sa.Column("speech_events", json_type()),
    # The worker carrying the live attempt, and until when its lease holds.
    sa.Column("worker_id", sa.String(64)),
    sa.Column("lease_expires_at", UTCDateTime),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("answered_at", UTCDateTime),
    sa.Column("ended_at", UTCDateTime),
    sa.UniqueConstraint("call_order_id", "attempt_number"),
    sa.Index(None, "status", "lease_expires_at"),
    sa.Index(None, "organization_id", "created_at"),
)

# One row per concurrency slot in use. The primary key makes a limit exact across
# processes and machines: a slot index below the limit can be held by one attempt only.
concurrency_slots = sa.Table(
    "concurrency_slots",
    metadata,
    sa.Column("scope", sa.String(200), primary_key=True),
    sa.Column("slot", sa.Integer, primary_key=True),
    sa.Column("attempt_id", ID, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Index(None, "attempt_id"),
)

# Limits of concurrency keys, set server-side (PUT /concurrency-keys/{key}).
concurrency_keys = sa.Table(
    "concurrency_keys",
    metadata,
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), primary_key=True),
    sa.Column("mode", MODE, primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("max_concurrent_calls", sa.Integer, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# The simulated network's own ledger of every dial it received, one row per attempt,
# committed before the line rings: proof that no attempt was dialled twice or lost.
sim_ledger = sa.Table(
    "sim_ledger",
    metadata,
    sa.Column("attempt_id", ID, primary_key=True),
    sa.Column("call_order_id", ID, nullable=False),
    sa.Column("phone_number", sa.String(32), nullable=False),
    sa.Column("attempt_number", sa.Integer, nullable=False),
    sa.Column("behaviour", sa.String(40), nullable=False),
    sa.Column("worker_id", sa.String(64), nullable=False),
    sa.Column("dialed_at", UTCDateTime, nullable=False),
    sa.Index(None, "call_order_id"),
)

campaign_rows = sa.Table(
    "campaign_rows",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("campaign_id", ID, sa.ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False),
    sa.Column("row_index", sa.Integer, nullable=False),
    sa.Column("phone_number", sa.String(32), nullable=False),
    sa.Column("input_data", json_type(), nullable=False),
    sa.Column("call_order_id", ID, sa.ForeignKey("call_orders.id", ondelete="SET NULL")),
    # Set when a launch skipped the row (e.g. "do_not_contact").
    sa.Column("skip_reason", sa.String(40)),
    sa.UniqueConstraint("campaign_id", "row_index"),
    sa.Index(None, "call_order_id"),
)

phone_numbers = sa.Table(
    "phone_numbers",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("mode", MODE, nullable=False),
    sa.Column("phone_number", sa.String(32), nullable=False),
    sa.Column("label", sa.String(200)),
    sa.Column("inbound_assistant_id", ID, sa.ForeignKey("assistants.id", ondelete="SET NULL")),
    sa.Column("provider", sa.String(10), nullable=False),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    sa.Column("created_by", ID),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Per organization: the sandbox range is shared, a call-in names its organization.
    sa.UniqueConstraint("organization_id", "mode", "phone_number"),
)

cloned_voices = sa.Table(
    "cloned_voices",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("mode", MODE, nullable=False),
    sa.Column("provider", sa.String(12), nullable=False),
    sa.Column("provider_voice_id", sa.String(100), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("sample_key", sa.String(300)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "organization_id", "mode"),
)

do_not_contact = sa.Table(
    "do_not_contact",
    metadata,
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), primary_key=True),
    sa.Column("mode", MODE, primary_key=True),
    sa.Column("phone_number", sa.String(32), primary_key=True),
    sa.Column("reason", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# The webhook outbox: one row per event, written in the transaction of the change that
# causes it, delivered by workers with retries; deliveries are logged one row per try.
webhook_events = sa.Table(
    "webhook_events",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # the webhook-id receivers dedupe on
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("mode", MODE, nullable=False),
    sa.Column("event_type", sa.String(40), nullable=False),
    sa.Column("call_order_id", ID, nullable=False),
    sa.Column("attempt_id", ID),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("payload", json_type(), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),  # pending | delivered | dead
    sa.Column("tries", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("last_error", sa.String(300)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("delivered_at", UTCDateTime),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "organization_id", "mode", "created_at"),
    sa.Index(None, "call_order_id"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column(
        "event_id",
        sa.String(40),
        sa.ForeignKey("webhook_events.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("try_number", sa.Integer, nullable=False),
    sa.Column("attempted_at", UTCDateTime, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.String(300)),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("response_excerpt", sa.String(500)),
    sa.Index(None, "event_id", "try_number"),
)

# Per-organization webhook preferences (ours).
webhook_settings = sa.Table(
    "webhook_settings",
    metadata,
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), primary_key=True),
    sa.Column("mode", MODE, primary_key=True),
    sa.Column("per_attempt_events", sa.Boolean, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Secrets every process of a deployment must share (e.g. the key that signs recording
# links), made once on first start when not given by the environment.
server_secrets = sa.Table(
    "server_secrets",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# The dashboard's signed-in browsers. The cookie carries a random token; only its SHA-256
# is stored, so a copy of the database signs nobody in.
web_sessions = sa.Table(
    "web_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("organization_id", ID, nullable=False),
    sa.Column("mode", MODE, nullable=False),  # the test/live switch, as an API key's mode
    sa.Column("csrf_token", sa.String(64), nullable=False),  # synchronizer token of its forms
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Index(None, "user_id"),
    sa.Index(None, "expires_at"),
)

# Wrong passwords counted per scope ("account:<email>", "ip:<address>"), shared by every
# process through the database, so a second API process is no second chance.
sign_in_failures = sa.Table(
    "sign_in_failures",
    metadata,
    sa.Column("scope", sa.String(400), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failed_at", UTCDateTime, nullable=False),
    sa.Column("locked_until", UTCDateTime),
)

# One-time sign-in links (first start, `openrevox users sign-in-link`): hashed, single use.
sign_in_links = sa.Table(
    "sign_in_links",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime),
    sa.Index(None, "user_id"),
)

# The text the dashboard's search looks in, one narrow row per call order (numbers, id,
# contact, metadata; lowercased), written by database triggers on every insert into
# call_orders (migration 0004), so that every writer (API, campaigns, inbound) keeps it
# and a search scans this small index instead of the wide order rows.
call_search_text = sa.Table(
    "call_search_text",
    metadata,
    sa.Column(
        "call_order_id",
        ID,
        sa.ForeignKey("call_orders.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("organization_id", ID, nullable=False),
    sa.Column("mode", MODE, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),  # the order's, for its keyset
    sa.Column("text", sa.Text, nullable=False),
    # Read newest first with the text in the index: a search never opens a row that
    # does not match.
    sa.Index(
        "ix_call_search_text_newest",
        "organization_id",
        "mode",
        "created_at",
        "call_order_id",
        "text",
    ),
)

# An organization's Calendly connections (ours): the personal access token is stored
# encrypted with a key kept outside the database (services/encryption.py).
calendly_connections = sa.Table(
    "calendly_connections",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("organization_id", ID, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("mode", MODE, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_encrypted", sa.Text, nullable=False),
    sa.Column("token_hint", sa.String(8), nullable=False),  # its last characters, shown
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Index(None, "organization_id", "mode"),
)
