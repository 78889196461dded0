"""invoice number keys: each invoice's normalized number, indexed for the duplicate rules

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 03:10:00.000000

The duplicate rules read only the invoices that could be flagged: the same currency and total,
or the same number once normalized (domain/invoice_numbers.py). Which numbers are one is
policy (gateway.yaml `matching.duplicates`), so the key is stored with the fingerprint of the
rules that made it. The columns start empty: the backfill is the start-up pass of
store/number_keys.py (`apgraph serve`, `apgraph db upgrade`), which knows the configured
rules, and which makes the keys again whenever those rules change. An invoice without a key,
or with one made under other rules, is always a candidate, so the rules decide as before
while it runs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_invoices_supplier_number_key": ["supplier_id", "number_key_rules", "number_key"],
    "ix_invoices_supplier_total": ["supplier_id", "currency", "total"],
}


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy on SQLite: other tables refer to `invoices`)
    op.add_column("invoices", sa.Column("number_key", sa.String(length=32), nullable=True))
    op.add_column("invoices", sa.Column("number_key_rules", sa.String(length=32), nullable=True))
    for name, columns in _INDEXES.items():
        op.create_index(name, "invoices", columns)


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="invoices")
    op.drop_column("invoices", "number_key_rules")
    op.drop_column("invoices", "number_key")
