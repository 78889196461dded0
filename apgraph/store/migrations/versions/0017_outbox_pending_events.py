"""the outbox's pending events: a partial index in sequence order

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 23:40:00.000000

The relay asks for the oldest events not published yet (`published_at IS NULL ORDER BY
sequence LIMIT n`) after every commit that wrote events. The index on `published_at` answered
that by a bitmap scan of its NULL entries, and it kept one for every event ever relayed until
VACUUM removed it (publishing updates the row, and the old version's entry stays behind): on
a server that had relayed 41,000 events since its last vacuum, 4.2–4.9 ms of PostgreSQL's time
per run. This index holds the pending events only,
in sequence order; an index scan reads the batch in order and marks the entries of events
published since as dead as it passes them, so later runs skip them. Nothing else asked
`published_at` by range: retention purges published events by age (`occurred_at`) and the
operations figures count the pending ones, which this index serves too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("published_at IS NULL")


def upgrade() -> None:
    # an operator may have built it already, CONCURRENTLY (docs/operations.md, Migrations)
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["sequence"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
        if_not_exists=True,
    )
    op.drop_index("ix_outbox_published_at", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.drop_index("ix_outbox_pending", table_name="outbox")
