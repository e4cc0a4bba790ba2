"""the two values of a snapshot a call shows at its top level, beside the content

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 21:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# What api.wire showed when it read them from the content: the delay, or 400 ms when the
# key is absent (an explicit null stays null); the model as it is, null when absent.
_FILL = {
    "sqlite": (
        "UPDATE assistant_snapshots SET"
        " first_sentence_delay_ms = CASE"
        "   WHEN json_type(content, '$.first_sentence_delay_ms') IS NULL THEN 400"
        "   ELSE json_extract(content, '$.first_sentence_delay_ms') END,"
        " llm_model = json_extract(content, '$.llm_model')"
    ),
    "postgresql": (
        "UPDATE assistant_snapshots SET"
        " first_sentence_delay_ms = CASE"
        "   WHEN content ? 'first_sentence_delay_ms'"
        "   THEN (content ->> 'first_sentence_delay_ms')::integer ELSE 400 END,"
        " llm_model = content -> 'llm_model'"
    ),
}


def upgrade() -> None:
    with op.batch_alter_table("assistant_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_sentence_delay_ms", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "llm_model",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
    op.execute(_FILL[op.get_bind().dialect.name])


def downgrade() -> None:
    with op.batch_alter_table("assistant_snapshots", schema=None) as batch_op:
        batch_op.drop_column("llm_model")
        batch_op.drop_column("first_sentence_delay_ms")
