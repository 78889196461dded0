"""`apgraph events replay`: the outbox handed again to one named consumer, each event once."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from apgraph.domain import event_cursors as cursors
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.principal import RowScope
from apgraph.events.relay import OutboxRelay
from apgraph.events.replay import ReplayConsumers, ReplayRefused, plan, replay_events
from apgraph.gateway.runtime import SystemClock
from apgraph.store.invoices import InvoiceRepository
from apgraph.store.outbox import OutboxRepository
from tests.conftest import ROOT
from tests.events.test_relay import commit_events, posted, received
from tests.keys import TEST_KEK


@pytest.fixture
def consumers(stack, ledger_engine) -> ReplayConsumers:
    relay = OutboxRelay(
        outbox=OutboxRepository(ledger_engine),
        invoices=InvoiceRepository(ledger_engine, RowScope()),
        analytics=stack.analytics,
        clock=SystemClock(),
    )
    found = ReplayConsumers()
    found.register("analytics", relay.forecast_each)
    return found


async def test_a_replay_from_a_cursor_reaches_analytics_once_however_often_it_runs(
    consumers, served, ledger_engine, network
):
    # given two posted invoices' events committed after a cursor
    outbox = OutboxRepository(ledger_engine)
    head = (await outbox.after(await outbox.head() - 1, 1))[0]
    cursor = cursors.cursor_of(head.sequence, head.id)
    chosen = [i for i in network.invoices if i.status is InvoiceStatus.POSTED][-4:-2]
    now = datetime.now(UTC)
    for invoice in chosen:
        await commit_events(ledger_engine, [received(invoice, now), posted(invoice, now)])
    sink = served.simulators.analytics

    # when the events after the cursor are replayed to analytics, twice
    analytics = await consumers.resolve("analytics")
    counts = []
    for _ in range(2):
        counts.append(await replay_events(outbox, await plan(outbox, cursor), analytics))

    # then both runs hand over the four events, and analytics holds each forecast once
    assert counts == [4, 4]
    refs = [f["invoiceRef"] for batch in sink.received.batches.values() for f in batch]
    assert [refs.count(invoice.id) for invoice in chosen] == [1, 1]


async def test_a_timestamp_starts_at_the_first_event_that_occurred_at_or_after_it(ledger_engine):
    # given an event committed now
    outbox = OutboxRepository(ledger_engine)
    later = datetime.now(UTC) + timedelta(days=365)

    # when the replay is planned from a time after every event
    replay = await plan(outbox, later.isoformat())

    # then it has nothing to hand over
    assert replay.total == 0


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("yesterday", "neither an event cursor nor an ISO 8601 timestamp"),
        (cursors.cursor_of(1, "00000000-0000-0000-0000-000000000000"), "no such event"),
    ],
)
async def test_a_bad_since_is_refused_in_one_line(ledger_engine, since, expected):
    with pytest.raises(ReplayRefused, match=expected):
        await plan(OutboxRepository(ledger_engine), since)


async def test_an_unknown_consumer_names_the_known_ones():
    consumers = ReplayConsumers()
    consumers.register("analytics", _nothing)

    async def webhook(subscription: str):
        return _nothing if subscription == "WH-1" else None

    consumers.register_prefix("webhook", webhook)

    assert await consumers.resolve("webhook:WH-1") is _nothing
    with pytest.raises(ReplayRefused, match="no webhook consumer 'WH-2'"):
        await consumers.resolve("webhook:WH-2")
    with pytest.raises(ReplayRefused, match="known: analytics, webhook:<id>"):
        await consumers.resolve("warehouse")


async def _nothing(records) -> None:
    return None


def test_the_command_refuses_an_unknown_consumer_and_a_bad_since(tmp_path):
    def events(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "apgraph.cli", "events", "replay", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env={
                "PATH": "/usr/bin:/bin",
                "APGRAPH_DATA_DIR": str(tmp_path),
                "APGRAPH_KEY_ENCRYPTION_KEY": TEST_KEK,
            },
        )

    unknown = events("--since", "2026-12-01T00:00:00Z", "--to", "warehouse")
    bad = events("--since", "last tuesday", "--to", "analytics")
    no_bus = events("--since", "2026-12-01T00:00:00Z", "--to", "bus")

    assert unknown.returncode == 1
    assert "--to warehouse: unknown consumer; known: analytics" in unknown.stderr
    assert bad.returncode == 1
    assert "neither an event cursor nor an ISO 8601 timestamp" in bad.stderr
    assert no_bus.returncode == 1
    assert "--to bus needs APGRAPH_BUS_URL" in no_bus.stderr
