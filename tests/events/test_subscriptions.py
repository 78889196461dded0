"""The live feed behind subscriptions, on a real outbox: resume from a cursor without gap or
repeat, refuse cursors it never gave out, and cut off a subscriber that falls behind."""

import asyncio
from datetime import UTC, datetime

import pytest

from apgraph.domain.event_cursors import cursor_of
from apgraph.domain.events import InvoiceReceived
from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId
from apgraph.events.hub import Hub
from apgraph.events.subscriptions import LiveFeed
from apgraph.services.ports.bus import CursorRejected
from apgraph.store import migrate
from apgraph.store.database import create_engine
from apgraph.store.outbox import OutboxRepository
from apgraph.store.unit_of_work import SqlUnitOfWork

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)


def received(n: int) -> InvoiceReceived:
    return InvoiceReceived(
        InvoiceId(f"INV-{n:08d}"), SupplierId("SUP-000001"), FacilityId("FAC-0001"), AT, f"A-{n}"
    )


@pytest.fixture
async def outbox(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'feed.db'}")
    await migrate.upgrade(engine)
    yield OutboxRepository(engine)
    await engine.dispose()


async def commit(outbox: OutboxRepository, *events) -> None:
    async with SqlUnitOfWork(outbox.engine) as uow:
        await uow.outbox.add(list(events))
        await uow.commit()


def feed(hub: Hub, outbox: OutboxRepository, *, queue: int = 100, window: int = 1000, cut=None):
    async def cut_off() -> None:
        if cut is not None:
            cut.set()

    return LiveFeed(hub, outbox, queue_size=queue, resume_window=window, on_overflow=cut_off)


async def test_a_subscriber_too_slow_for_its_queue_is_cut_off_and_resumes_from_its_cursor(outbox):
    # given a subscriber with room for two events, which has read one
    await commit(outbox, received(1))
    hub = await Hub.at_head(outbox)
    cut = asyncio.Event()
    stream = await feed(hub, outbox, queue=2, cut=cut).open(after=None, admits=lambda r: True)
    await commit(outbox, received(2))
    await hub.catch_up()
    first = await anext(stream)
    # when three more events arrive before it reads again
    await commit(outbox, received(3), received(4), received(5))
    await hub.catch_up()
    # then its stream ends, its connection is told to close, and nothing more is held for it
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert cut.is_set()
    assert hub.listeners == 0
    # and resuming after the last event it read gives exactly the rest
    again = await feed(hub, outbox).open(after=first.cursor, admits=lambda r: True)
    rest = [(await anext(again)).record.invoice_id for _ in range(3)]
    assert rest == ["INV-00000003", "INV-00000004", "INV-00000005"]


async def test_live_events_follow_the_replay_without_gap_or_repeat(outbox):
    # given five committed events and a cursor at the second
    await commit(outbox, *(received(n) for n in range(1, 6)))
    records = await outbox.after(0, 10)
    hub = await Hub.at_head(outbox)
    stream = await feed(hub, outbox).open(
        after=cursor_of(records[1].sequence, records[1].id), admits=lambda r: True
    )
    # when two more arrive, one of them delivered twice by the bus and out of order
    await commit(outbox, received(6))
    await commit(outbox, received(7))
    newest = await outbox.after(records[-1].sequence, 10)
    await hub.receive(newest[1])  # the later one first: the hub fills the gap from the outbox
    await hub.receive(newest[0])  # a repeat: dropped
    # then the subscriber reads 3..7, each once, in order
    seen = [(await anext(stream)).record.sequence for _ in range(5)]
    assert seen == [r.sequence for r in records[2:]] + [r.sequence for r in newest]


@pytest.mark.parametrize(
    "cursor",
    ["garbage", cursor_of(1, "00000000-0000-0000-0000-000000000000"), cursor_of(99, "x")],
)
async def test_a_cursor_the_outbox_does_not_hold_is_refused(outbox, cursor):
    await commit(outbox, received(1))
    hub = await Hub.at_head(outbox)
    with pytest.raises(CursorRejected) as refused:
        await feed(hub, outbox).open(after=cursor, admits=lambda r: True)
    assert not refused.value.too_old


async def test_a_cursor_older_than_the_resume_window_is_refused_as_too_old(outbox):
    await commit(outbox, *(received(n) for n in range(1, 5)))
    oldest = (await outbox.after(0, 1))[0]
    hub = await Hub.at_head(outbox)
    with pytest.raises(CursorRejected) as refused:
        await feed(hub, outbox, window=2).open(
            after=cursor_of(oldest.sequence, oldest.id), admits=lambda r: True
        )
    assert refused.value.too_old
