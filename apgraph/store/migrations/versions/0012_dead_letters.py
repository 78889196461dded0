"""dead letters: one store for postings, payment releases, webhook deliveries and relayed
events that failed past every retry; filed from the invoices and payments already waiting

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import apgraph.store.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("resolved_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("number", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "first_failed_at", apgraph.store.types.UtcDateTime(timezone=True), nullable=False
        ),
        sa.Column("last_failed_at", apgraph.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", apgraph.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_dead_letters")),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letters_kind"), ["kind"])
        batch_op.create_index(batch_op.f("ix_dead_letters_resolved_at"), ["resolved_at"])
        batch_op.create_index(
            "uq_dead_letters_open_subject",
            ["kind", "subject"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
    # What waited for a replay before this store existed: invoices in POSTING_FAILED (failed
    # when their latest change says) and payments in RELEASE_FAILED (failed at release).
    op.execute(
        """
        INSERT INTO dead_letters
            (kind, subject, code, detail, attempts, first_failed_at, last_failed_at)
        SELECT 'POSTING', i.id, 'POSTING_FAILED', 'filed when the dead-letter store was made',
               1, MAX(c.at), MAX(c.at)
        FROM invoices i JOIN invoice_status_changes c ON c.invoice_id = i.id
        WHERE i.status = 'POSTING_FAILED'
        GROUP BY i.id
        """
    )
    op.execute(
        """
        INSERT INTO dead_letters
            (kind, subject, code, detail, attempts, first_failed_at, last_failed_at)
        SELECT 'PAYMENT_RELEASE', p.id, COALESCE(p.exception_code, 'ERP_UNAVAILABLE'),
               'filed when the dead-letter store was made', 1, p.released_at, p.released_at
        FROM payments p
        WHERE p.status = 'RELEASE_FAILED' AND p.released_at IS NOT NULL
        """
    )


def downgrade() -> None:
    op.drop_table("dead_letters")
