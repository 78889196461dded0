"""What the demo writer leaves in a database, as the server's background loops find it."""

from datetime import UTC, datetime, timedelta

from apgraph.domain.principal import RowScope
from apgraph.services.posting_recovery import interrupted_postings
from apgraph.store.connector_state import SqlPostingLedger
from apgraph.store.read_store import ReadStore
from tests.keys import keyring_for


async def test_the_demo_leaves_no_posting_for_the_recovery_to_resume(seeded_database):
    """A first start must not read the demo as a crash: every invoice the recovery resumes is
    logged as an interrupted posting, a warning a newcomer takes for something broken."""
    # given the demo network, written as a first start writes it
    engine = seeded_database.engine()
    try:
        # when the posting recovery looks for interrupted postings, with no grace at all
        stuck, _ = await interrupted_postings(
            reads=ReadStore.scoped(engine, RowScope(), await keyring_for(engine)),
            ledger=SqlPostingLedger(engine),
            now=datetime.now(UTC),
            grace=timedelta(0),
            limit=10_000,
        )
    finally:
        await engine.dispose()

    # then it finds none: neither an invoice left MATCHED nor an approved exception whose
    # posting was sent and never settled
    assert [invoice.id for invoice in stuck] == []
