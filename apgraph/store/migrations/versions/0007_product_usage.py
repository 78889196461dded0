"""product usage: requests, errors and latency per minute, product version, client, operation

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 19:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import apgraph.store.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "product_usage",
        sa.Column("minute", apgraph.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("product", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=False),
        sa.Column("client", sa.String(length=128), nullable=False),
        sa.Column("operation", sa.String(length=128), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("latency_ms_total", sa.Float(), nullable=False),
        sa.Column("latency_ms_max", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "minute", "product", "version", "client", "operation", name="pk_product_usage"
        ),
    )


def downgrade() -> None:
    op.drop_table("product_usage")
