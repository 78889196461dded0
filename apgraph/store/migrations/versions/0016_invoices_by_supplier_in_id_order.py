"""invoices by supplier in ID order: the supplier portal's page

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:40:00.000000

A supplier's page of invoices is their invoices in ID order after a cursor (store/invoices.py).
With only an index on `supplier_id`, PostgreSQL's generic plan for that prepared statement
walks the primary key in ID order and filters by supplier: for a supplier with 54 of 4,000
invoices it read 3,741 rows to keep 52 (3.0 ms; 1.9 ms with this index, which reads the 52).
The single-column index on `supplier_id` is dropped: this one, and the duplicate rules'
indexes, lead with it and serve every lookup it served.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # an operator may have built it already, CONCURRENTLY (docs/operations.md, Migrations)
    op.create_index(
        "ix_invoices_supplier_page", "invoices", ["supplier_id", "id"], if_not_exists=True
    )
    op.drop_index("ix_invoices_supplier_id", table_name="invoices")


def downgrade() -> None:
    op.create_index("ix_invoices_supplier_id", "invoices", ["supplier_id"])
    op.drop_index("ix_invoices_supplier_page", table_name="invoices")
