"""Partner webhook deliveries over real HTTP on loopback: signed the Standard Webhooks way,
retried with backoff until accepted (exactly once per event), dead after the last attempt,
and only ever of events the partner could read. The worker is driven step by step with a
clock of the test's own: no test waits for a backoff to pass."""

import asyncio
import ipaddress
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from standardwebhooks import Webhook as Signer

from apgraph.domain.dead_letters import DeadLetter, DeadLetterKind
from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId
from apgraph.domain.principal import Principal, Role
from apgraph.domain.webhooks import (
    DeliveryStatus,
    IpAddress,
    RetryPolicy,
    TargetPolicy,
    delivery_id,
)
from apgraph.events.in_process import InProcessBus
from apgraph.events.replay import ReplayRefused
from apgraph.events.webhooks import Outcome, WebhookDispatcher, WebhookPlanner
from apgraph.gateway.event_replay import replay_consumers
from apgraph.gateway.request_context import dead_letter_replays
from apgraph.gateway.webhooks import dispatcher_for
from apgraph.services import webhooks as service
from apgraph.services.dead_letters import replay_dead_letter
from apgraph.services.ports.bus import BusUnavailable
from apgraph.services.ports.dead_letters import DeadLetterFilter
from apgraph.services.ports.reads import PageRequest
from apgraph.services.ports.unit_of_work import OutboxRecord
from apgraph.store.dead_letters import SqlDeadLetters
from apgraph.store.keyring import Keyring
from apgraph.store.resealing import keys_in_use, reseal
from apgraph.store.sealing import DataKeys, Place, Unreadable
from apgraph.store.tables import WebhookRow
from apgraph.store.webhooks import WEBHOOKS, SqlWebhooks
from apgraph.store.webhooks import keys_in_use as webhook_keys_in_use
from tests.conftest import ROOT
from tests.events.receivers import Receiver, receiving
from tests.gateway.partners import PARTNER_SCOPES, register
from tests.services.statements import statements_sent, touching

RETRIES = RetryPolicy(attempts=4, initial=timedelta(seconds=1), maximum=timedelta(seconds=4))
SCOPES = PARTNER_SCOPES | {"webhooks:manage"}
OPERATOR = Principal(
    subject="ops.oncall", roles=frozenset({Role.FINANCE_ADMIN}), scopes=frozenset({"admin"})
)


class StepClock:
    """Starts at the real time (receivers check the signed timestamp against theirs) and
    moves only when the test moves it."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def queue(workflow_api) -> SqlWebhooks:
    runtime = workflow_api.runtime
    return SqlWebhooks(runtime.engine, runtime.keyring)


@pytest.fixture
async def http() -> httpx.AsyncClient:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def dead_letters(workflow_api) -> SqlDeadLetters:
    return SqlDeadLetters(workflow_api.runtime.engine)


@pytest.fixture
def dispatcher(queue, http, clock, dead_letters) -> WebhookDispatcher:
    return WebhookDispatcher(
        queue=queue,
        http=http,
        clock=clock,
        retries=RETRIES,
        targets=TargetPolicy(),
        timeout=5.0,
        jitter=lambda: 0.0,
        dead_letters=dead_letters,
    )


async def letters_of(store: SqlDeadLetters, subject: str) -> list[DeadLetter]:
    """The dead letters filed for one delivery, open or resolved."""
    found, after = [], None
    while True:
        page = await store.page(
            DeadLetterFilter(kind=DeadLetterKind.WEBHOOK_DELIVERY), PageRequest(100, after)
        )
        found += [letter for letter in page.items if letter.subject == subject]
        if not page.has_next_page:
            return found
        after = page.items[-1].id


@pytest.fixture
def planner(queue, workflow_api, clock) -> WebhookPlanner:
    return WebhookPlanner(queue=queue, rules=workflow_api.runtime.webhook_rules, clock=clock)


async def webhook_of(workflow_api, clock, *, url, facilities=("FAC-0001",), types=None):
    """A partner client and its webhook, registered through the service the API uses."""
    client = await register(workflow_api, facilities=list(facilities), scopes=SCOPES)
    deps = workflow_api.runtime.webhooks
    outcome = await service.register_webhook(
        deps=deps,
        client_id=client.client_id,
        scopes=client.scopes,
        url=url,
        event_types=types or ["invoice.posted", "invoice.received"],
    )
    assert outcome.ok, outcome.problems
    return client, outcome.value


def event(*, facility="FAC-0001", supplier="SUP-000001", type="invoice.posted") -> OutboxRecord:
    return OutboxRecord(
        id=str(uuid.uuid4()),
        type=type,
        sequence=1,
        occurred_at=datetime.now(UTC),
        invoice_id=InvoiceId("INV-00000001"),
        supplier_id=SupplierId(supplier),
        facility_id=FacilityId(facility),
        trace_id=None,
        payload={"version": 1, "erp_document": "LEG-1"},
        published_at=None,
    )


async def drain(dispatcher: WebhookDispatcher, clock: StepClock, *, until) -> int:
    """Runs the worker step by step, moving the clock past each backoff, until `until()`."""
    for step in range(1, 20):
        await dispatcher.run_once()
        if until():
            return step
        clock.advance(RETRIES.maximum)
    raise AssertionError("the worker never got there")


async def test_a_receiver_failing_the_first_deliveries_gets_each_event_exactly_once(
    workflow_api, clock, planner, dispatcher, queue
):
    # given a receiver that fails its first 2 requests, and a partner's webhook pointing at it
    receiver = Receiver(fail_first=2)
    with receiving(receiver) as url:
        _, registered = await webhook_of(workflow_api, clock, url=url)
        receiver.secret = registered.secret
        events = [event(), event(type="invoice.received")]

        # when both events are planned (one of them twice, as a redelivering bus would)
        for record in [*events, events[0]]:
            await planner.receive(record)
        await drain(dispatcher, clock, until=lambda: len(receiver.accepted) == 2)
        for _ in range(3):  # and the worker keeps running past it
            clock.advance(RETRIES.maximum)
            await dispatcher.run_once()

    # then each event was accepted exactly once, every signature verified
    assert sorted(receiver.accepted) == sorted(
        delivery_id(record.id, registered.webhook.id) for record in events
    )
    assert receiver.accepted_twice == []
    assert receiver.forged == 0
    assert receiver.requests == 4  # 2 refused, then one each
    assert {e["id"] for e in receiver.accepted.values()} == {r.id for r in events}
    assert all(e["specversion"] == "1.0" and "traceid" not in e for e in receiver.accepted.values())
    for record in events:
        found = await queue.get(delivery_id(record.id, registered.webhook.id))
        assert found is not None
        assert found.status is DeliveryStatus.DELIVERED


async def test_a_delivery_is_retried_only_once_its_backoff_has_passed(
    workflow_api, clock, planner, dispatcher
):
    receiver = Receiver(fail_first=1)
    with receiving(receiver) as url:
        _, registered = await webhook_of(workflow_api, clock, url=url)
        receiver.secret = registered.secret
        await planner.receive(event())

        await dispatcher.run_once()  # refused: due again after 1 s (no jitter)
        await dispatcher.run_once()  # not due yet: nothing is sent
        assert receiver.requests == 1
        clock.advance(RETRIES.initial)
        await dispatcher.run_once()

    assert receiver.requests == 2
    assert len(receiver.accepted) == 1


async def test_a_receiver_that_always_fails_ends_in_the_dead_letters(
    workflow_api, clock, planner, dispatcher, queue, dead_letters
):
    # given a receiver that refuses everything
    receiver = Receiver(fail_first=1_000)
    with receiving(receiver) as url:
        _, registered = await webhook_of(workflow_api, clock, url=url)
        receiver.secret = registered.secret
        record = event()
        await planner.receive(record)
        message = delivery_id(record.id, registered.webhook.id)

        # when the worker has made every attempt
        await drain(
            dispatcher,
            clock,
            until=lambda: receiver.requests >= RETRIES.attempts,
        )
        clock.advance(RETRIES.maximum * 10)
        await dispatcher.run_once()

        # then it stopped at the last one, and the delivery is dead
        assert receiver.requests == RETRIES.attempts
        dead = await queue.get(message)
        assert dead is not None
        assert dead.status is DeliveryStatus.DEAD
        assert dead.attempts == RETRIES.attempts
        # and filed once in the dead-letter store
        (letter,) = await letters_of(dead_letters, message)
        assert letter.code == "WEBHOOK_DELIVERY_FAILED"
        assert letter.detail == "HTTP 503"
        assert not letter.resolved

        # when the receiver recovers and an operator replays the dead letter twice
        receiver.fail_first = 0
        first = await dispatcher.replay(message)
        second = await dispatcher.replay(message)

    # then it is delivered once
    assert (first, second) == (True, None)
    assert list(receiver.accepted) == [message]
    assert receiver.accepted_twice == []
    (letter,) = await letters_of(dead_letters, message)
    assert letter.outcome == "DELIVERED"


async def test_another_partner_never_receives_events_of_invoices_it_cannot_read(
    workflow_api, clock, planner, dispatcher
):
    # given two partners, one bound to FAC-0001 and one to FAC-0002, on the same receiver URL
    receiver = Receiver()
    with receiving(receiver) as url:
        _, ours = await webhook_of(workflow_api, clock, url=url, facilities=["FAC-0001"])
        _, theirs = await webhook_of(workflow_api, clock, url=url, facilities=["FAC-0002"])
        receiver.secret = ours.secret

        # when an event of a FAC-0001 invoice commits
        record = event(facility="FAC-0001")
        await planner.receive(record)
        await drain(dispatcher, clock, until=lambda: len(receiver.accepted) >= 1)
        clock.advance(RETRIES.maximum)
        await dispatcher.run_once()

    # then only the partner that may read it got it
    assert list(receiver.accepted) == [delivery_id(record.id, ours.webhook.id)]
    assert receiver.forged == 0  # nothing signed with the other partner's secret came


async def test_a_revoked_client_receives_nothing_more(workflow_api, clock, planner, queue):
    client, registered = await webhook_of(workflow_api, clock, url="http://127.0.0.1:9/hooks")
    await workflow_api.runtime.clients.revoke(client.client_id, at=clock.now())

    record = event()
    await planner.receive(record)

    assert await queue.get(delivery_id(record.id, registered.webhook.id)) is None


async def test_a_delivery_never_connects_to_a_name_now_resolving_to_a_private_address(
    workflow_api, clock, planner, queue, http
):
    # given a webhook registered by name while the name resolved to loopback
    receiver = Receiver()
    with receiving(receiver) as url:
        named = url.replace("127.0.0.1", "localhost")
        _, registered = await webhook_of(workflow_api, clock, url=named)
        record = event()
        await planner.receive(record)

        # when the name answers a private address at delivery time (DNS rebinding)
        async def rebound(host: str, port: int) -> list[IpAddress]:
            return [ipaddress.ip_address("10.0.0.1")]

        dispatcher = WebhookDispatcher(
            queue=queue,
            http=http,
            clock=clock,
            retries=RetryPolicy(attempts=1, initial=timedelta(seconds=1), maximum=RETRIES.maximum),
            targets=TargetPolicy(),
            timeout=5.0,
            resolve=rebound,
        )
        await dispatcher.run_once()

    # then nothing was sent anywhere, and the delivery failed for good
    assert receiver.requests == 0
    dead = await queue.get(delivery_id(record.id, registered.webhook.id))
    assert dead is not None
    assert dead.status is DeliveryStatus.DEAD


async def test_events_reach_the_planner_through_the_bus(workflow_api, clock, planner, queue):
    # given the planner consuming the in-process bus
    _, registered = await webhook_of(workflow_api, clock, url="http://127.0.0.1:9/hooks")
    bus, stop = InProcessBus(), asyncio.Event()
    consuming = asyncio.create_task(planner.run(bus, stop))
    record = event()
    message = delivery_id(record.id, registered.webhook.id)
    try:
        # when the relay publishes an event, again and again as at-least-once allows
        async with asyncio.timeout(30):
            while await queue.get(message) is None:
                await bus.publish([record])
                await asyncio.sleep(0.01)  # a poll interval, not a wait for something to pass
    finally:
        stop.set()
        await consuming
    # then one delivery is planned, however often the event came
    assert (await queue.get(message)).status is DeliveryStatus.PENDING


async def test_an_operators_replay_of_the_dead_letter_delivers_once(
    workflow_api, clock, planner, dispatcher, queue, dead_letters
):
    # given a delivery dead after its last attempt, filed in the dead-letter store
    receiver = Receiver(fail_first=RETRIES.attempts)
    with receiving(receiver) as url:
        _, registered = await webhook_of(workflow_api, clock, url=url)
        receiver.secret = registered.secret
        record = event()
        await planner.receive(record)
        message = delivery_id(record.id, registered.webhook.id)
        await drain(dispatcher, clock, until=lambda: receiver.requests >= RETRIES.attempts)
        (letter,) = await letters_of(dead_letters, message)

        # when an operator replays it twice, through the registry the server uses
        async def replay():
            return await replay_dead_letter(
                letter.id,
                store=dead_letters,
                replays=dead_letter_replays(workflow_api.runtime, None),
                principal=OPERATOR,
                clock=workflow_api.runtime.clock,
            )

        first, second = await replay(), await replay()

    # then the receiver accepted it once; the second replay sent nothing
    assert first.ok
    assert first.value.outcome == "DELIVERED"
    assert first.value.resolved_by == OPERATOR.subject
    assert [p.code.value for p in second.problems] == ["DEAD_LETTER_ALREADY_REPLAYED"]
    assert list(receiver.accepted) == [message]
    assert receiver.requests == RETRIES.attempts + 1


async def stored_secret(engine, webhook_id: str) -> tuple[str, str]:
    """The webhook's secret as the database holds it, and the data key it names."""
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                select(WebhookRow.secret, WebhookRow.data_key_id).where(WebhookRow.id == webhook_id)
            )
        ).one()
    return row.secret, row.data_key_id


async def test_after_a_data_key_rotation_and_reseal_deliveries_are_signed_with_the_same_secret(
    workflow_api, clock, planner, dispatcher
):
    # given a partner's webhook, its secret sealed under the active data key
    runtime = workflow_api.runtime
    receiver = Receiver()
    with receiving(receiver) as url:
        _, registered = await webhook_of(workflow_api, clock, url=url)
        receiver.secret = registered.secret
        _, old_key = await stored_secret(runtime.engine, registered.webhook.id)
        operator = Keyring(runtime.engine, runtime.keyring.kek, columns=runtime.keyring.columns)
        old_only = DataKeys(
            keys={old_key: (await operator.sealing()).keys.keys[old_key]},
            active_id=old_key,
            index_key=b"",
        )

        # when an operator rotates the data key and reseals in another process, as `apgraph
        # keys rotate-data` does, and the server's keyring then reloads, as its pass does
        new_key = await operator.rotate(now=clock.now())
        report = await reseal(runtime.engine, operator)
        await operator.drop_retired(
            in_use=await keys_in_use(runtime.engine), now=clock.now(), grace=timedelta(0)
        )
        await runtime.keyring.reload()
        record = event()
        await planner.receive(record)
        await drain(dispatcher, clock, until=lambda: len(receiver.accepted) == 1)

    # then the secret was moved to the new key, which the old key cannot open, and the
    # delivery verifies under the secret the partner was given at registration
    stored, key_id = await stored_secret(runtime.engine, registered.webhook.id)
    assert report.secrets_moved >= 1
    assert key_id == new_key != old_key
    assert old_key not in await webhook_keys_in_use(runtime.engine)
    with pytest.raises(Unreadable):
        old_only.open(stored, Place(WEBHOOKS, "secret", registered.webhook.id))
    assert receiver.forged == 0
    assert list(receiver.accepted) == [delivery_id(record.id, registered.webhook.id)]


def test_the_partner_guides_standard_library_check_accepts_what_apgraph_signs():
    # given the guide's hand-written verification, and a delivery signed as the worker signs
    guide = (ROOT / "docs" / "integrators" / "partner.md").read_text(encoding="utf-8")
    snippet = next(b for b in re.findall(r"```python\n(.*?)```", guide, re.S) if "def sig" in b)
    namespace: dict = {}
    exec(snippet, namespace)  # noqa: S102 - the documented code itself is under test
    secret, body, at = service.new_secret(), b'{"id":"e-1"}', datetime.now(UTC)
    headers = {
        "webhook-id": "msg_e-1_WHK-0000000000000001",
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Signer(secret).sign("msg_e-1_WHK-0000000000000001", at, body),
    }

    # then it accepts the delivery, and refuses an altered body or another secret
    assert namespace["signature_ok"](secret, body, headers)
    assert not namespace["signature_ok"](secret, body + b" ", headers)
    assert not namespace["signature_ok"](service.new_secret(), body, headers)


def test_the_server_counts_each_attempt_by_outcome(workflow_api):
    def counted(outcome: Outcome) -> float:
        sample = REGISTRY.get_sample_value(
            "apgraph_webhook_delivery_attempts_total", {"outcome": outcome.value}
        )
        return sample or 0.0

    before = {outcome: counted(outcome) for outcome in Outcome}
    observe = dispatcher_for(workflow_api.runtime).observe
    for outcome in [Outcome.FAILED, Outcome.FAILED, Outcome.ACCEPTED]:
        observe(outcome)

    assert {o: counted(o) - before[o] for o in Outcome} == {
        Outcome.ACCEPTED: 1,
        Outcome.FAILED: 2,
        Outcome.DEAD: 0,
    }


async def test_a_webhook_receives_nothing_that_happened_before_it_was_registered(
    workflow_api, clock, planner, queue
):
    # given an event that happened an hour ago, delivered by the bus only now
    _, registered = await webhook_of(workflow_api, clock, url="http://127.0.0.1:9/hooks")
    old = replace(event(), occurred_at=registered.webhook.created_at - timedelta(hours=1))

    await planner.receive(old)

    assert await queue.get(delivery_id(old.id, registered.webhook.id)) is None


async def test_an_operators_replay_to_one_webhook_plans_what_it_is_owed_once(
    workflow_api, clock, queue
):
    # given two partners' webhooks, and events from before and after the first was registered
    _, mine = await webhook_of(workflow_api, clock, url="http://127.0.0.1:9/mine")
    _, other = await webhook_of(workflow_api, clock, url="http://127.0.0.1:9/other")
    before = replace(event(), occurred_at=mine.webhook.created_at - timedelta(hours=1))
    after = event(type="invoice.received")
    unreadable = event(facility="FAC-0002")  # the partner's client is not admitted there
    consumers = replay_consumers(workflow_api.runtime)

    # when an operator replays them to the first webhook, twice
    consumer = await consumers.resolve(f"webhook:{mine.webhook.id}")
    for _ in range(2):
        await consumer([before, after, unreadable])

    # then that webhook is owed both readable events, history included, once each
    for record in (before, after):
        planned = await queue.get(delivery_id(record.id, mine.webhook.id))
        assert planned is not None
        assert planned.status is DeliveryStatus.PENDING
    assert await queue.get(delivery_id(unreadable.id, mine.webhook.id)) is None
    # and the other webhook nothing
    for record in (before, after, unreadable):
        assert await queue.get(delivery_id(record.id, other.webhook.id)) is None


async def test_a_replay_to_an_unknown_or_removed_webhook_is_refused(workflow_api, clock):
    client, removed = await webhook_of(workflow_api, clock, url="http://127.0.0.1:9/gone")
    outcome = await service.remove_webhook(
        deps=workflow_api.runtime.webhooks,
        client_id=client.client_id,
        webhook_id=removed.webhook.id,
    )
    assert outcome.ok, outcome.problems
    consumers = replay_consumers(workflow_api.runtime)

    for webhook_id in (removed.webhook.id, "WH-unknown"):
        with pytest.raises(ReplayRefused, match=f"no webhook consumer '{webhook_id}'"):
            await consumers.resolve(f"webhook:{webhook_id}")


async def test_on_the_in_process_bus_an_event_is_planned_before_the_relay_counts_it_published(
    workflow_api, clock, planner, queue
):
    # given the planner consuming the embedded bus, and a partner's webhook
    _, registered = await webhook_of(workflow_api, clock, url="http://127.0.0.1:9/hooks")
    bus, stop = InProcessBus(), asyncio.Event()
    consuming = asyncio.create_task(planner.run(bus, stop))
    try:
        await asyncio.sleep(0)  # the consumer's task registers on its first step
        record = event()
        # when the relay publishes an event
        await bus.publish([record])
        # then the delivery was persisted by the time publish returned: a process dying
        # right after the relay marks the batch published loses nothing
        assert await queue.get(delivery_id(record.id, registered.webhook.id)) is not None
    finally:
        stop.set()
        await consuming


async def test_on_the_in_process_bus_a_planner_failure_keeps_the_batch_for_the_relay():
    # given a shared consumer that cannot take a record (its database is down, say)
    bus, stop = InProcessBus(), asyncio.Event()
    taken: list[str] = []
    failing = True

    async def handler(record: OutboxRecord) -> None:
        if failing:
            raise ConnectionError("database unavailable")
        taken.append(record.id)

    consuming = asyncio.create_task(bus.consume("webhooks", handler, stop=stop, shared=True))
    try:
        await asyncio.sleep(0)  # let the consumer register
        record = event()
        # then publishing fails as the bus being unavailable: the relay keeps the batch
        with pytest.raises(BusUnavailable):
            await bus.publish([record])
        # and once the consumer recovers, the relay's next offer is taken
        failing = False
        await bus.publish([record])
        assert taken == [record.id]
    finally:
        stop.set()
        await consuming


async def test_the_planner_reads_the_webhooks_once_per_published_batch(
    workflow_api, clock, planner, queue
):
    """A submission's workflow commits about five events at once; reading the webhooks for
    each was a statement per event in the server's background loops (issue 19)."""
    # given the planner consuming the embedded bus, a webhook for posted invoices and one for
    # received invoices, and a third removed before the batch
    client, posted = await webhook_of(
        workflow_api, clock, url="http://127.0.0.1:9/posted", types=["invoice.posted"]
    )
    _, received = await webhook_of(
        workflow_api, clock, url="http://127.0.0.1:9/received", types=["invoice.received"]
    )
    gone_client, gone = await webhook_of(workflow_api, clock, url="http://127.0.0.1:9/gone")
    removed = await service.remove_webhook(
        deps=workflow_api.runtime.webhooks,
        client_id=gone_client.client_id,
        webhook_id=gone.webhook.id,
    )
    assert removed.ok, removed.problems
    bus, stop = InProcessBus(), asyncio.Event()
    consuming = asyncio.create_task(planner.run(bus, stop))
    try:
        await asyncio.sleep(0)  # the consumer's task registers on its first step
        batch = [event(type="invoice.received"), *(event() for _ in range(4))]

        # when the relay publishes five events in one batch
        with statements_sent(workflow_api.runtime.engine) as sent:
            await bus.publish(batch)
    finally:
        stop.set()
        await consuming

    # then the webhooks were read once, and each event was planned for its type's webhook only
    assert len([s for s in touching(sent, "webhooks") if s.lstrip().startswith("SELECT")]) == 1
    for record in batch:
        wanted = received if record.type == "invoice.received" else posted
        other = posted if wanted is received else received
        assert await queue.get(delivery_id(record.id, wanted.webhook.id)) is not None
        assert await queue.get(delivery_id(record.id, other.webhook.id)) is None
        assert await queue.get(delivery_id(record.id, gone.webhook.id)) is None


async def test_a_webhook_registered_between_two_batches_receives_the_second(
    workflow_api, clock, planner, queue
):
    # given a batch planned while no webhook asked for posted invoices
    first = [event(), event()]
    await planner.receive_all(first)

    # when a webhook is registered, and the next batch comes
    _, registered = await webhook_of(
        workflow_api, clock, url="http://127.0.0.1:9/late", types=["invoice.posted"]
    )
    second = [event(), event()]
    await planner.receive_all(second)

    # then it receives the second batch, none of the first (nothing is kept between batches)
    for record in first:
        assert await queue.get(delivery_id(record.id, registered.webhook.id)) is None
    for record in second:
        assert await queue.get(delivery_id(record.id, registered.webhook.id)) is not None
