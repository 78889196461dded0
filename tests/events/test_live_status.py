"""Live status end to end: real server processes, a real WebSocket, invoices submitted
through the API (issue 18). Once with the in-process bus in one process; once on NATS
JetStream with two processes, the subscriber on one and the mutations on the other."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from apgraph.demo import writer as demo_writer
from apgraph.domain import feeds
from apgraph.domain.principal import Role
from apgraph.gateway.demo_users import demo_token
from apgraph.gateway.oauth import client_claims
from apgraph.gateway.runtime import embedded_issuer
from apgraph.settings import Settings
from apgraph.store import migrate
from tests.conftest import ROOT, TEST_SCALE
from tests.databases import drop_database, make_database
from tests.events.receivers import Receiver, receiving
from tests.events.servers import (
    NATS_URL,
    SseSubscriber,
    Subscriber,
    changes_until_posted,
    served,
    unique_prefix,
)
from tests.gateway.partners import PARTNER_SCOPES, register
from tests.keys import TEST_KEK, keyring_for
from tests.workflow import Orders, as_input

SUBMIT = """
mutation($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) { invoice { id status } userErrors { code } }
}
"""
NOW = "{ events(last: 1) { edges { cursor } } }"
SUPPLIER_OF = "query($id: ID!) { invoice(id: $id) { supplier { id } } }"
HISTORY = """
query($after: String) {
  events(filter: {after: $after}, first: 100) {
    edges { node { type sequence } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
PARTNER_OPERATIONS = json.loads(
    (ROOT / "apgraph" / "policies" / "operations" / "partner-procurement.json").read_text()
).values()
REGISTER_WEBHOOK = next(t for t in PARTNER_OPERATIONS if "mutation RegisterWebhook" in t)
REMOVE_WEBHOOK = next(t for t in PARTNER_OPERATIONS if "mutation RemoveWebhook" in t)
PORTAL = "/products/supplier-portal/v1/graphql"  # suppliers' endpoint
FINANCE = "/products/finance-ops/v1/graphql"  # approvers' and clerks' endpoint
STATUS = """
subscription($after: String) {
  invoiceStatusChanged(after: $after) { cursor invoiceId status event { type sequence } }
}
"""


def is_status_change(event_type: str) -> bool:
    """The events `invoiceStatusChanged` streams."""
    return feeds.is_invoice_event(event_type) and feeds.status_after(event_type) is not None


@dataclass
class Deployment:
    subscribe_at: str  # base URL of the process subscribers use
    mutate_at: str  # base URL of the process mutations go to
    settings: Settings
    orders: Orders

    def token(self, role: Role, **claims) -> str:
        return demo_token(
            embedded_issuer(self.settings), role=role, now=datetime.now(UTC), **claims
        )

    async def now(self) -> str:
        """The cursor of the newest event: subscribing after it misses nothing from now on,
        however long the server takes to set the subscription up."""
        token = self.token(Role.FINANCE_ADMIN)
        async with httpx.AsyncClient(base_url=self.subscribe_at, timeout=60) as client:
            response = await client.post(
                "/graphql", json={"query": NOW}, headers={"Authorization": f"Bearer {token}"}
            )
        (edge,) = response.json()["data"]["events"]["edges"]  # the seed wrote its history
        return edge["cursor"]

    async def suppliers_of(self, invoice_ids: set[str]) -> dict[str, str]:
        """Each invoice's supplier, read by an operator: a check independent of the stream."""
        token = self.token(Role.FINANCE_ADMIN)
        found: dict[str, str] = {}
        async with httpx.AsyncClient(base_url=self.subscribe_at, timeout=60) as client:
            for invoice_id in invoice_ids:
                response = await client.post(
                    "/graphql",
                    json={"query": SUPPLIER_OF, "variables": {"id": invoice_id}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                found[invoice_id] = response.json()["data"]["invoice"]["supplier"]["id"]
        return found

    async def invoice_sequences(self, *, after: str, upto: int) -> list[int]:
        """The sequences of every invoice status event the history holds after a cursor, up
        to a sequence: what a subscriber resuming at that cursor must have received."""
        token = self.token(Role.FINANCE_ADMIN)
        sequences: list[int] = []
        async with httpx.AsyncClient(base_url=self.subscribe_at, timeout=60) as client:
            while True:
                response = await client.post(
                    "/graphql",
                    json={"query": HISTORY, "variables": {"after": after}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                page = response.json()["data"]["events"]
                for edge in page["edges"]:
                    event = edge["node"]
                    if event["sequence"] > upto:
                        return sequences
                    if is_status_change(event["type"]):
                        sequences.append(event["sequence"])
                if not page["pageInfo"]["hasNextPage"]:
                    return sequences
                after = page["pageInfo"]["endCursor"]

    async def submit(self, order) -> str:
        token = self.token(Role.SUPPLIER, supplier_id=order.supplier.id)
        async with httpx.AsyncClient(base_url=self.mutate_at, timeout=60) as client:
            response = await client.post(
                PORTAL,
                json={
                    "query": SUBMIT,
                    "variables": {
                        "input": as_input(order.clean_invoice()),
                        "key": uuid.uuid4().hex,
                    },
                },
                headers={"Authorization": f"Bearer {token}"},
            )
        body = response.json()
        assert "errors" not in body, body
        return body["data"]["submitInvoice"]["invoice"]["id"]


@pytest.fixture(scope="module", params=["in-process", "nats"])
async def deployment(request, tmp_path_factory, network) -> AsyncIterator[Deployment]:
    database = await make_database("postgresql", tmp_path_factory.mktemp("live-status"))
    engine = database.engine()
    await migrate.upgrade(engine)
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))
    await engine.dispose()
    nats = request.param == "nats"
    settings = Settings(
        database_url=database.url,
        database_schema=database.schema,
        data_dir=tmp_path_factory.mktemp("live-status-data"),
        gateway_config=ROOT / "tests" / "gateway.yaml",
        demo_scale=TEST_SCALE,
        seed_demo_data=False,
        key_encryption_key=TEST_KEK,
        relay_interval_seconds=0.2,
        # no escalation pass: its first one, at start-up, walks every seeded exception and
        # escalated a test's new exception (UPDATED) before the test read it ENTERED
        escalation_interval_seconds=0,
        bus_url=NATS_URL if nats else None,
        bus_stream_prefix=unique_prefix(),
    )
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(served(settings))
        second = await stack.enter_async_context(served(settings)) if nats else first
        yield Deployment(first, second, settings, Orders(network))
    await drop_database(database)


TRANSPORTS = pytest.mark.parametrize("transport", [Subscriber, SseSubscriber], ids=["ws", "sse"])


def clean_order(deployment: Deployment, *, other_than: str | None = None):
    while True:
        order = deployment.orders.take("postgresql", "full")
        if order.supplier.id != other_than:
            return order


@TRANSPORTS
async def test_a_supplier_follows_its_own_invoice_from_received_to_posted(deployment, transport):
    # given a supplier subscribed to its invoices' status, and another supplier's invoice
    mine = clean_order(deployment)
    theirs = clean_order(deployment, other_than=mine.supplier.id)
    token = deployment.token(Role.SUPPLIER, supplier_id=mine.supplier.id)
    async with transport.connect(deployment.subscribe_at, token, PORTAL) as subscriber:
        await subscriber.subscribe(STATUS, {"after": await deployment.now()})
        # when the other supplier's invoice and then its own are submitted
        their_invoice = await deployment.submit(theirs)
        my_invoice = await deployment.submit(mine)
        # then it sees its own invoice walk the lifecycle, and nothing of the other's
        seen = await changes_until_posted(subscriber, my_invoice)
    # the server's own background work (posting recovery, rematching) may move the
    # supplier's older invoices meanwhile: those are its own too; another's never
    suppliers = await deployment.suppliers_of({c["invoiceId"] for c in seen})
    assert their_invoice not in suppliers
    assert set(suppliers.values()) == {mine.supplier.id}
    walk = [c for c in seen if c["invoiceId"] == my_invoice]
    assert [c["status"] for c in walk] == ["RECEIVED", "VALIDATED", "MATCHED", "POSTED"]
    assert [c["event"]["type"] for c in walk] == [
        "invoice.received",
        "invoice.validated",
        "invoice.matched",
        "invoice.posted",
    ]


QUEUE = """
subscription($facility: ID!, $after: String) {
  exceptionQueueChanged(facilityId: $facility, after: $after) {
    kind invoiceId facilityId status cursor
  }
}
"""


@TRANSPORTS
async def test_a_reconnect_with_the_last_cursor_receives_exactly_the_missed_events(
    deployment, transport
):
    # given a finance dashboard that followed one invoice to POSTED, then disconnected
    first, missed, later = (clean_order(deployment) for _ in range(3))
    watcher = deployment.token(Role.FINANCE_ADMIN)
    token = deployment.token(Role.FINANCE_ADMIN)
    async with transport.connect(deployment.subscribe_at, token) as subscriber:
        await subscriber.subscribe(STATUS, {"after": await deployment.now()})
        first_id = await deployment.submit(first)
        seen = await changes_until_posted(subscriber, first_id)
    last_cursor = seen[-1]["cursor"]
    # when another invoice goes all the way while it is away (an admin watches it happen)
    async with Subscriber.connect(deployment.subscribe_at, watcher) as admin:
        await admin.subscribe(STATUS, {"after": await deployment.now()})
        missed_id = await deployment.submit(missed)
        await changes_until_posted(admin, missed_id)
    # and it comes back with its last cursor, and a third invoice is submitted afterwards
    async with transport.connect(deployment.subscribe_at, token) as subscriber:
        await subscriber.subscribe(STATUS, {"after": last_cursor})
        replayed = await changes_until_posted(subscriber, missed_id)
        later_id = await deployment.submit(later)
        live = await changes_until_posted(subscriber, later_id)
    # then it receives exactly what it missed, then the live ones: no gap, no repeat (the
    # server's background work may add changes of older invoices; a finance admin sees those)
    expected = ["RECEIVED", "VALIDATED", "MATCHED", "POSTED"]
    assert [(c["invoiceId"], c["status"]) for c in replayed if c["invoiceId"] == missed_id] == [
        (missed_id, status) for status in expected
    ]
    assert [(c["invoiceId"], c["status"]) for c in live if c["invoiceId"] == later_id] == [
        (later_id, status) for status in expected
    ]
    assert first_id not in {c["invoiceId"] for c in replayed + live}  # nothing seen twice
    sequences = [c["event"]["sequence"] for c in replayed + live]
    assert sequences == sorted(set(sequences))
    assert sequences == await deployment.invoice_sequences(after=last_cursor, upto=sequences[-1])


@TRANSPORTS
async def test_an_approver_sees_an_exception_land_in_their_facility_queue(deployment, transport):
    # given an approver of a facility, subscribed to its exception queue
    order = deployment.orders.for_exception("postgresql")
    facility = order.order.facility_id
    token = deployment.token(Role.APPROVER, facility_ids=[facility])
    async with transport.connect(deployment.subscribe_at, token, FINANCE) as subscriber:
        await subscriber.subscribe(QUEUE, {"facility": facility, "after": await deployment.now()})
        # when an invoice over what was received is submitted there
        supplier = deployment.token(Role.SUPPLIER, supplier_id=order.supplier.id)
        async with httpx.AsyncClient(base_url=deployment.mutate_at, timeout=60) as client:
            body = (
                await client.post(
                    PORTAL,
                    json={
                        "query": SUBMIT,
                        "variables": {
                            "input": as_input(order.over_received_invoice()),
                            "key": uuid.uuid4().hex,
                        },
                    },
                    headers={"Authorization": f"Bearer {supplier}"},
                )
            ).json()
        invoice_id = body["data"]["submitInvoice"]["invoice"]["id"]
        # then the queue change arrives: the invoice entered the queue, in EXCEPTION
        message = await subscriber.message()
    change = message["payload"]["data"]["exceptionQueueChanged"]
    assert (change["kind"], change["invoiceId"], change["facilityId"], change["status"]) == (
        "ENTERED",
        invoice_id,
        facility,
        "EXCEPTION",
    )


PAYMENTS = "subscription { paymentStatusChanged { cursor paymentId } }"


def clerk_reading_invoices_only(deployment) -> str:
    """A clerk's token narrowed to `invoices:read`: finance-ops admits the role, not the
    payment subscriptions."""
    return (
        embedded_issuer(deployment.settings)
        .issue(
            subject="dashboard.narrow",
            now=datetime.now(UTC),
            claims={"roles": ["ap_clerk"], "scope": "invoices:read"},
        )
        .access_token
    )


async def test_a_subscription_the_caller_may_not_read_is_refused_at_subscribe_time(deployment):
    # given a token narrowed to invoices:read (no payments:read) on finance-ops, whose view
    # has the payment feed, and a supplier on its portal, whose view has no queue feed
    narrowed = clerk_reading_invoices_only(deployment)
    supplier = deployment.token(Role.SUPPLIER, supplier_id="SUP-000001")
    refusals = []
    for token, path, query, variables in (
        (narrowed, FINANCE, PAYMENTS, {}),
        (supplier, PORTAL, QUEUE, {"facility": "FAC-0001"}),
    ):
        async with Subscriber.connect(deployment.subscribe_at, token, path) as subscriber:
            # when it subscribes
            operation = await subscriber.subscribe(query, variables)
            message = await subscriber.message()
        # then the subscription is refused before any event
        assert (message["type"], message["id"]) == ("error", operation)
        refusals.append(message["payload"])
    # the clerk at the field (FORBIDDEN), the supplier by its view (no queue feed in it)
    forbidden, unknown = refusals
    assert [e["extensions"]["code"] for e in forbidden] == ["FORBIDDEN"]
    assert len(unknown) == 1
    assert "Cannot query field 'exceptionQueueChanged'" in unknown[0]["message"]


@pytest.mark.parametrize(
    "cursor",
    [
        "not-a-cursor!",
        "MToxMjM",  # "1:123" base64url: a sequence with an id the outbox never wrote
    ],
)
async def test_a_forged_cursor_is_refused_with_bad_user_input(deployment, cursor):
    token = deployment.token(Role.FINANCE_ADMIN)
    async with Subscriber.connect(deployment.subscribe_at, token) as subscriber:
        operation = await subscriber.subscribe(STATUS, {"after": cursor})
        message = await subscriber.message()
    assert (message["type"], message["id"]) == ("error", operation)
    assert message["payload"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


async def test_a_malformed_message_closes_that_socket_with_4400_and_no_other(deployment):
    # given two subscribers on the same server
    token = deployment.token(Role.FINANCE_ADMIN)
    async with (
        Subscriber.connect(deployment.subscribe_at, token) as bad,
        Subscriber.connect(deployment.subscribe_at, token) as good,
    ):
        await good.subscribe(STATUS, {"after": await deployment.now()})
        # when one sends a subscribe message without an id
        await bad.ws.send('{"type": "subscribe", "payload": {"query": "subscription { x }"}}')
        # then its socket is closed with 4400, and the other still works
        with pytest.raises(ConnectionClosed) as closed:
            await bad.message()
        assert closed.value.rcvd.code == 4400
        await good.ws.send('{"type": "ping"}')
        assert (await good.message())["type"] == "pong"


async def test_an_sse_subscription_refused_at_subscribe_time_answers_its_code_and_completes(
    deployment,
):
    # a clerk's token narrowed to invoices:read, asking finance-ops for the payment feed
    narrowed = clerk_reading_invoices_only(deployment)
    async with SseSubscriber.connect(deployment.subscribe_at, narrowed, FINANCE) as subscriber:
        await subscriber.subscribe(PAYMENTS, {})
        refused, complete = await subscriber.message(), await subscriber.message()
    assert refused["type"] == "next"
    assert [e["extensions"]["code"] for e in refused["payload"]["errors"]] == ["FORBIDDEN"]
    assert complete["type"] == "complete"


async def test_the_sse_endpoint_needs_a_bearer_token_and_an_event_stream(deployment):
    async with httpx.AsyncClient(base_url=deployment.subscribe_at) as client:
        anonymous = await client.post(
            "/graphql/stream", json={"query": STATUS}, headers={"Accept": "text/event-stream"}
        )
        token = deployment.token(Role.FINANCE_ADMIN)
        plain = await client.post(
            "/graphql/stream", json={"query": STATUS}, headers={"Authorization": f"Bearer {token}"}
        )
    assert anonymous.status_code == 401
    assert plain.status_code == 406


async def test_a_partner_webhook_receives_its_invoices_lifecycle_once_each(deployment):
    # given a partner client of one facility, with a webhook on a receiver failing twice first
    mine = deployment.orders.take("postgresql", "full")
    facility = mine.clean_invoice().facility_id
    client = await register(
        SimpleNamespace(settings=deployment.settings),
        facilities=[facility],
        scopes=PARTNER_SCOPES | {"webhooks:manage"},
    )
    partner = embedded_issuer(deployment.settings).issue(
        subject=client.client_id,
        now=datetime.now(UTC),
        claims=client_claims(client, " ".join(sorted(client.scopes))),
    )
    receiver = Receiver(fail_first=2)
    with receiving(receiver) as url:
        async with httpx.AsyncClient(base_url=deployment.subscribe_at, timeout=60) as api:
            response = await api.post(
                "/products/partner-procurement/v1/graphql",
                json={
                    "query": REGISTER_WEBHOOK,
                    "variables": {
                        "input": {
                            "url": url,
                            "eventTypes": [
                                "invoice.received",
                                "invoice.validated",
                                "invoice.matched",
                                "invoice.posted",
                            ],
                        }
                    },
                },  # fmt: skip
                headers={"Authorization": f"Bearer {partner.access_token}"},
            )
        registered = response.json()["data"]["registerWebhook"]
        assert registered["userErrors"] == []
        receiver.secret = registered["secret"]

        # when an invoice of that facility is submitted (on the other process, on NATS)
        invoice_id = await deployment.submit(mine)

        # then the receiver ends with each of its events accepted exactly once, all signed
        def mine_seen() -> list[str]:
            return [e["type"] for e in receiver.accepted.values() if e["subject"] == invoice_id]

        lifecycle = ["invoice.matched", "invoice.posted", "invoice.received", "invoice.validated"]
        async with asyncio.timeout(120):  # retries come back after seconds: any order is fine
            while True:
                if set(mine_seen()) == set(lifecycle):
                    break
                await asyncio.sleep(0.1)  # polling for a condition, with a deadline
        async with httpx.AsyncClient(base_url=deployment.subscribe_at, timeout=60) as api:
            await api.post(  # the module's later invoices are not this receiver's business
                "/products/partner-procurement/v1/graphql",
                json={"query": REMOVE_WEBHOOK, "variables": {"id": registered["webhook"]["id"]}},
                headers={"Authorization": f"Bearer {partner.access_token}"},
            )
    assert sorted(mine_seen()) == lifecycle
    assert receiver.forged == 0
    assert receiver.accepted_twice == []
    assert {e["facilityid"] for e in receiver.accepted.values()} == {facility}
