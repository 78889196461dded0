"""external system names: the ERPs stored by the one name each system has everywhere

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 21:30:00.000000

The ERP enum and the external-system enum became one (apgraph/domain/systems.py), so rows
name the ERPs as gateway.yaml's `connectors`, metrics and errors do: `legacy` becomes
`legacy_erp` and `cloud` becomes `cloud_erp` in a facility's route, the vendor links and the
posting ledger. gateway.yaml and master-data bundles still accept `legacy` and `cloud`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("facilities", "erp_system"),
    ("erp_cross_references", "system"),
    ("erp_postings", "system"),
)
_RENAMED = (("legacy", "legacy_erp"), ("cloud", "cloud_erp"))


def _rename(*, old_index: int) -> None:
    for table, column in _COLUMNS:
        for names in _RENAMED:
            before, after = names[old_index], names[1 - old_index]
            op.execute(
                sa.table(table, sa.column(column))
                .update()
                .where(sa.column(column) == before)
                .values({column: after})
            )


def _default(value: str) -> None:
    """A new facility's ERP when none is named. SQLite cannot change a column's default in
    place, and copying `facilities` (what batch mode does) fails on the rows that refer to
    it, so there the column is replaced: added anew, filled, the old one dropped (3.35+)."""
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("facilities", "erp_system", server_default=value)
        return
    op.add_column(
        "facilities",
        sa.Column("erp_system_next", sa.String(length=32), nullable=False, server_default=value),
    )
    op.execute("UPDATE facilities SET erp_system_next = erp_system")
    op.execute("ALTER TABLE facilities DROP COLUMN erp_system")
    op.execute("ALTER TABLE facilities RENAME COLUMN erp_system_next TO erp_system")


def upgrade() -> None:
    _rename(old_index=0)
    _default("legacy_erp")


def downgrade() -> None:
    _rename(old_index=1)
    _default("legacy")
