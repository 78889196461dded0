"""config starts: the effective configuration of each server start, for its history

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import apgraph.store.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "config_starts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", apgraph.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_starts")),
    )
    with op.batch_alter_table("config_starts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_config_starts_started_at"), ["started_at"])


def downgrade() -> None:
    op.drop_table("config_starts")
