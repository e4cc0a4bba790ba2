"""the dashboard: password hashes, sessions, failed attempts, one-time links; the
calls' keyset index and the narrow search text kept by triggers

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openrevox.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _when() -> openrevox.store.types.UTCDateTime:
    return openrevox.store.types.UTCDateTime(timezone=True)


# The search text of an order: its id, numbers, and the values (not the keys) of its
# contact and metadata, lowercased. Written by the database on every insert or change of
# those columns, whichever code path writes the order.
_SQLITE_TEXT = (
    "lower(NEW.id || ' ' || NEW.to_phone_number || ' ' || NEW.from_phone_number || ' ' ||"
    " COALESCE((SELECT group_concat(value, ' ') FROM json_each(NEW.contact)), '') || ' ' ||"
    " COALESCE((SELECT group_concat(value, ' ') FROM json_each(NEW.metadata)), ''))"
)
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER call_search_text_insert AFTER INSERT ON call_orders BEGIN"
    " INSERT INTO call_search_text (call_order_id, organization_id, mode, created_at, text)"
    f" VALUES (NEW.id, NEW.organization_id, NEW.mode, NEW.created_at, {_SQLITE_TEXT}); END",
    "CREATE TRIGGER call_search_text_update AFTER UPDATE OF"
    " contact, metadata, to_phone_number, from_phone_number ON call_orders BEGIN"
    f" UPDATE call_search_text SET text = {_SQLITE_TEXT} WHERE call_order_id = NEW.id; END",
)
_PG_VALUES = (
    "(SELECT string_agg(value, ' ') FROM jsonb_each_text("
    "CASE WHEN jsonb_typeof({column}) = 'object' THEN {column} ELSE '{{}}'::jsonb END))"
)
_PG_TEXT = (
    "lower(concat_ws(' ', NEW.id, NEW.to_phone_number, NEW.from_phone_number, "
    + _PG_VALUES.format(column="NEW.contact")
    + ", "
    + _PG_VALUES.format(column="NEW.metadata")
    + "))"
)
_PG_TRIGGERS = (
    "CREATE FUNCTION call_search_text_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " INSERT INTO call_search_text (call_order_id, organization_id, mode, created_at, text)"
    f" VALUES (NEW.id, NEW.organization_id, NEW.mode, NEW.created_at, {_PG_TEXT})"
    " ON CONFLICT (call_order_id) DO UPDATE SET text = EXCLUDED.text;"
    " RETURN NEW; END $$",
    "CREATE TRIGGER call_search_text_write AFTER INSERT OR UPDATE OF"
    " contact, metadata, to_phone_number, from_phone_number ON call_orders"
    " FOR EACH ROW EXECUTE FUNCTION call_search_text_write()",
)


def _search_text() -> None:
    op.create_table(
        "call_search_text",
        sa.Column("call_order_id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_order_id"],
            ["call_orders.id"],
            name=op.f("fk_call_search_text_call_order_id_call_orders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("call_order_id", name=op.f("pk_call_search_text")),
    )
    op.create_index(
        op.f("ix_call_search_text_newest"),
        "call_search_text",
        ["organization_id", "mode", "created_at", "call_order_id", "text"],
    )
    dialect = op.get_bind().dialect.name
    for statement in _PG_TRIGGERS if dialect == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)
    # The orders already there: the same text, written once here.
    text = _PG_TEXT if dialect == "postgresql" else _SQLITE_TEXT
    op.execute(
        "INSERT INTO call_search_text (call_order_id, organization_id, mode, created_at, text)"
        f" SELECT NEW.id, NEW.organization_id, NEW.mode, NEW.created_at, {text}"
        " FROM call_orders AS NEW"
    )


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_web_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_index(op.f("ix_web_sessions_expires_at"), "web_sessions", ["expires_at"])
    op.create_table(
        "sign_in_failures",
        sa.Column("scope", sa.String(length=400), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", _when(), nullable=False),
        sa.Column("locked_until", _when(), nullable=True),
        sa.PrimaryKeyConstraint("scope", name=op.f("pk_sign_in_failures")),
    )
    op.create_table(
        "sign_in_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("expires_at", _when(), nullable=False),
        sa.Column("used_at", _when(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sign_in_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_sign_in_links")),
    )
    op.create_index(op.f("ix_sign_in_links_user_id"), "sign_in_links", ["user_id"])
    op.drop_index(op.f("ix_call_orders_organization_id_mode_created_at"), "call_orders")
    op.create_index(
        op.f("ix_call_orders_organization_id_mode_created_at_id"),
        "call_orders",
        ["organization_id", "mode", "created_at", "id"],
    )
    _search_text()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER call_search_text_write ON call_orders")
        op.execute("DROP FUNCTION call_search_text_write()")
    else:
        op.execute("DROP TRIGGER call_search_text_insert")
        op.execute("DROP TRIGGER call_search_text_update")
    op.drop_index(
        op.f("ix_call_search_text_newest"),
        table_name="call_search_text",
    )
    op.drop_table("call_search_text")
    op.drop_index(op.f("ix_call_orders_organization_id_mode_created_at_id"), "call_orders")
    op.create_index(
        op.f("ix_call_orders_organization_id_mode_created_at"),
        "call_orders",
        ["organization_id", "mode", "created_at"],
    )
    op.drop_index(op.f("ix_sign_in_links_user_id"), table_name="sign_in_links")
    op.drop_table("sign_in_links")
    op.drop_table("sign_in_failures")
    op.drop_index(op.f("ix_web_sessions_expires_at"), table_name="web_sessions")
    op.drop_index(op.f("ix_web_sessions_user_id"), table_name="web_sessions")
    op.drop_table("web_sessions")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("password_hash")
