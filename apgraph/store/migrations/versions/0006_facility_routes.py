"""facility routes: each facility's ERP and migration mode, stored with it

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 14:30:00.000000

Existing facilities start on the legacy ERP in legacy mode, the safe default: gateway.yaml's
`facilities` section still overrides the stored route of any facility it lists.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("facilities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("erp_system", sa.String(length=32), nullable=False, server_default="legacy")
        )
        batch_op.add_column(
            sa.Column(
                "migration_mode", sa.String(length=32), nullable=False, server_default="legacy"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("facilities", schema=None) as batch_op:
        batch_op.drop_column("migration_mode")
        batch_op.drop_column("erp_system")
