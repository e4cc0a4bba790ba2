"""call_attempts.openrevox: openrevox's own facts per attempt; end_reason: contract values

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# domain/end_reasons.py as of this revision: the reasons openrevox wrote into end_reason
# before it kept to the contract's enum, and the contract value each becomes.
_CONTRACT = (
    "client_initiated", "connection_timeout", "human_takeover", "ivr_no_navigate",
    "max_duration", "participant_removed", "tool_end_call", "transfer", "user_inactive",
    "user_rejected", "user_unavailable", "voicemail", "speed_dial_abandoned",
    "speed_dial_operator_missed", "speed_dial_timeout", "speed_dial_hangup",
)  # fmt: skip
_LOST = ("worker_lost", "provider_error")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("openrevox", _JSON, nullable=True))
    attempts = sa.table(
        "call_attempts",
        sa.column("id", sa.String),
        sa.column("end_reason", sa.String),
        sa.column("openrevox", _JSON),
    )
    bind = op.get_bind()
    found = bind.execute(
        sa.select(attempts.c.end_reason)
        .where(attempts.c.end_reason.is_not(None), attempts.c.end_reason.not_in(_CONTRACT))
        .distinct()
    ).scalars()
    for reason in list(found):
        bind.execute(
            attempts.update()
            .where(attempts.c.end_reason == reason)
            .values(
                end_reason="connection_timeout" if reason in _LOST else "client_initiated",
                openrevox={"error_reason": reason},
            )
        )


def downgrade() -> None:
    attempts = sa.table(
        "call_attempts", sa.column("end_reason", sa.String), sa.column("openrevox", _JSON)
    )
    bind = op.get_bind()
    reason = attempts.c.openrevox["error_reason"].as_string()
    bind.execute(attempts.update().where(reason.is_not(None)).values(end_reason=reason))
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_column("openrevox")
