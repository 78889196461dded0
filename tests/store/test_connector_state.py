"""The ERP posting ledger: every attempt under one key is counted, the first one known."""

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import PostingState
from apgraph.store.connector_state import SqlPostingLedger
from apgraph.store.tables import ErpPostingRow

AT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


async def test_attempts_at_once_under_one_key_find_one_first_attempt(engine, tiny_network):
    # given a posting nobody has attempted yet
    ledger = SqlPostingLedger(engine)
    invoice = tiny_network.invoices[0]

    # when eight attempts begin at the same moment (a retry racing a dead-letter replay)
    befores = await asyncio.gather(
        *(
            ledger.begin(
                system=ExternalSystem.LEGACY_ERP, idempotency_key="sub-race", invoice=invoice, at=AT
            )
            for _ in range(8)
        )
    )

    # then exactly one is the first, none fails on the unique key, and all are counted
    assert befores.count(None) == 1
    assert set(befores) - {None} == {PostingState.SENT}
    assert await ledger.state_of(ExternalSystem.LEGACY_ERP, "sub-race") is PostingState.SENT
    async with engine.connect() as connection:
        attempts = await connection.scalar(
            select(ErpPostingRow.attempts).where(ErpPostingRow.idempotency_key == "sub-race")
        )
    assert attempts == 8
