"""sealed classified columns: wider supplier columns for sealed values, the data keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 18:30:00.000000

Existing plain values are not touched here: a migration has no key. The server's start (and
`apgraph keys reseal`) seals every row whose `data_key_id` is NULL, in batches, before any
request is served (store/resealing.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import apgraph.store.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEALABLE = sa.String(length=255)


def upgrade() -> None:
    with op.batch_alter_table("suppliers", schema=None) as batch_op:
        batch_op.alter_column("tax_id", type_=SEALABLE, existing_nullable=False)
        batch_op.alter_column("bank_routing_number", type_=SEALABLE, existing_nullable=True)
        batch_op.alter_column("bank_account_number", type_=SEALABLE, existing_nullable=True)
        batch_op.add_column(sa.Column("data_key_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("bank_account_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_suppliers_data_key_id"), ["data_key_id"])
        batch_op.create_index(batch_op.f("ix_suppliers_bank_account_hash"), ["bank_account_hash"])
    op.create_table(
        "data_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("wrapped", sa.Text(), nullable=False),
        sa.Column("created_at", apgraph.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", apgraph.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_keys")),
    )
    op.create_table(
        "sealing_state",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_sealing_state")),
    )


def downgrade() -> None:
    op.drop_table("sealing_state")
    op.drop_table("data_keys")
    with op.batch_alter_table("suppliers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suppliers_bank_account_hash"))
        batch_op.drop_index(batch_op.f("ix_suppliers_data_key_id"))
        batch_op.drop_column("bank_account_hash")
        batch_op.drop_column("data_key_id")
