"""calendly connections per organization, the token encrypted at rest

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import openrevox.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendly_connections",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("mode", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("token_hint", sa.String(length=8), nullable=False),
        sa.Column("created_at", openrevox.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_calendly_connections_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendly_connections")),
    )
    with op.batch_alter_table("calendly_connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_calendly_connections_organization_id_mode"),
            ["organization_id", "mode"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("calendly_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calendly_connections_organization_id_mode"))
    op.drop_table("calendly_connections")
