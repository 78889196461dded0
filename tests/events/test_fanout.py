"""Fan-out to many subscribers: each event is admitted once per group of equal row scope and
filter, executed once per group of equal document and caller scope, and every subscriber still
gets exactly what it would get alone — its own events only, and an end when its client is
revoked while the others of its group go on."""

import asyncio
import json
from datetime import UTC, date, datetime
from types import SimpleNamespace

import httpx
import pytest
import yaml
from starlette.datastructures import Headers

from apgraph.domain import events
from apgraph.domain.ids import FacilityId, InvoiceId, PaymentId, SupplierId
from apgraph.domain.principal import Principal, Role, RowScope
from apgraph.events.hub import Hub
from apgraph.gateway.app import create_app
from apgraph.gateway.auth import AuthenticationFailed
from apgraph.gateway.request_context import context_for
from apgraph.gateway.runtime import Runtime
from apgraph.gateway.schema import build_schema
from apgraph.gateway.websocket_session import Rechecks
from apgraph.policies.gateway import GatewayConfig
from apgraph.policies.loader import load_gateway_config
from apgraph.resolvers.subscriptions import InvoiceChanges, Visible
from apgraph.settings import Settings
from apgraph.store import migrate
from apgraph.store.outbox import OutboxRepository
from apgraph.store.unit_of_work import SqlUnitOfWork
from tests.conftest import ROOT, TEST_KEK, Api, live_server_on_a_database_of_its_own
from tests.events.servers import Subscriber, changes_until_posted
from tests.gateway import partners
from tests.gateway.test_websocket_session import revoke, until_closed
from tests.live_server import serving
from tests.workflow import Orders, as_input

BOUND = 30  # seconds: only a bound on a hang, never what a test measures
AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
SUP_A, SUP_B = SupplierId("SUP-000001"), SupplierId("SUP-000002")
FAC_1, FAC_2 = FacilityId("FAC-0001"), FacilityId("FAC-0002")
INV_A, INV_B = InvoiceId("INV-90000001"), InvoiceId("INV-90000002")
PAY_A = PaymentId("PAY-90000001")

# every field a subscriber can select, so any difference between the paths shows
EVENT = "event { id type sequence occurredAt traceId published payload }"
STATUS = f"subscription {{ invoiceStatusChanged {{ cursor invoiceId status occurredAt {EVENT} }} }}"
PAYMENTS = (
    "subscription { paymentStatusChanged { cursor paymentId invoiceId invoiceStatus "
    f"occurredAt {EVENT} }} }}"
)
QUEUE = (
    "subscription($facility: ID!) { exceptionQueueChanged(facilityId: $facility) "
    f"{{ cursor kind invoiceId facilityId status occurredAt {EVENT} }} }}"
)
SUBMIT = """
mutation($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) { invoice { id } userErrors { code } }
}
"""
LIVE_STATUS = """
subscription($after: String) { invoiceStatusChanged(after: $after) { invoiceId status } }
"""
NOW = "{ events(last: 1) { edges { cursor } } }"


def history() -> list[events.Event]:
    """Two suppliers' invoices at two facilities, through status, queue and payment changes."""
    return [
        events.InvoiceReceived(INV_A, SUP_A, FAC_1, AT, "A-1"),
        events.InvoiceReceived(INV_B, SUP_B, FAC_2, AT, "B-1"),
        events.InvoiceValidated(INV_A, SUP_A, FAC_1, AT),
        events.InvoiceMatchFailed(INV_B, SUP_B, FAC_2, AT, ("PRICE_VARIANCE",)),
        events.InvoiceMatched(INV_A, SUP_A, FAC_1, AT, ()),
        events.InvoiceHeld(INV_B, SUP_B, FAC_2, AT, "approver-1", "wait for the credit note"),
        events.InvoicePosted(INV_A, SUP_A, FAC_1, AT, "5100001"),
        events.InvoiceReleased(INV_B, SUP_B, FAC_2, AT, "approver-1"),
        events.PaymentScheduled(INV_A, SUP_A, FAC_1, AT, PAY_A, date(2026, 12, 20)),
    ]


def principals(runtime: Runtime) -> dict[str, Principal]:
    scopes = runtime.config.access.scopes_of

    def of(role: Role, **rows: object) -> Principal:
        return Principal(
            subject=f"{role.value}-1",
            roles=frozenset({role}),
            scopes=scopes(frozenset({role})),
            **rows,  # type: ignore[arg-type]
        )

    return {
        "supplier A": of(Role.SUPPLIER, supplier_id=SUP_A),
        "supplier B": of(Role.SUPPLIER, supplier_id=SUP_B),
        "approver FAC-0002": of(Role.APPROVER, facility_ids=frozenset({FAC_2})),
        "ap clerk": of(Role.AP_CLERK),
        "finance admin": of(Role.FINANCE_ADMIN),
        "auditor": of(Role.AUDITOR),
        "partner FAC-0001": of(Role.PARTNER, facility_ids=frozenset({FAC_1}), client_id="cli_x"),
    }


# what each caller must receive of `history()`, per document: its own rows only
EXPECTED = {
    ("supplier A", STATUS): 4,
    ("supplier B", STATUS): 4,
    ("approver FAC-0002", STATUS): 4,
    ("ap clerk", STATUS): 8,
    ("finance admin", STATUS): 8,
    ("auditor", STATUS): 8,
    ("partner FAC-0001", STATUS): 4,
    ("supplier A", PAYMENTS): 1,
    ("finance admin", PAYMENTS): 1,
    ("approver FAC-0002", QUEUE): 3,
    ("finance admin", QUEUE): 3,
    ("partner FAC-0001", PAYMENTS): 0,  # refused at subscribe: no payments:read
    ("supplier A", QUEUE): 0,  # refused at subscribe: FAC-0002 is not its facility
}


@pytest.fixture
async def runtime(tmp_path):
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'fanout.db'}",
        gateway_config=ROOT / "tests" / "gateway.yaml",
        key_encryption_key=TEST_KEK,
    )
    runtime = Runtime.open(settings, load_gateway_config(settings.gateway_config))
    await migrate.upgrade(runtime.engine)
    runtime.live.hub = await Hub.at_head(OutboxRepository(runtime.engine))
    yield runtime
    await runtime.close()


def message(result) -> str:
    """The `next` payload as graphql-transport-ws sends it (strawberry's Operation.send_next)."""
    payload: dict = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return json.dumps(payload, sort_keys=True)


async def subscribe(runtime: Runtime, schema, principal: Principal, query: str):
    request = SimpleNamespace(  # what the context and the extensions read of a WebSocket
        app=SimpleNamespace(state=SimpleNamespace(runtime=runtime)), scope={"type": "websocket"}
    )
    context = context_for(
        runtime, principal, schema=schema, request=request, response=None, trace_id="t-1"
    )
    variables = {"facility": FAC_2} if "$facility" in query else None
    return await schema.subscribe(query, variable_values=variables, context_value=context)


class Reader:
    """A subscription being read: strawberry starts the resolver (and so registers at the
    hub) only when the first result is asked for, so that is asked for at once."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.first = asyncio.ensure_future(anext(stream))

    async def received(self, count: int) -> list[str]:
        """`count` events, or the one refusal when none may come."""
        async with asyncio.timeout(BOUND):
            results = [await self.first]
            results += [await anext(self.stream) for _ in range(count - 1)]
        return [message(result) for result in results]


async def test_shared_results_are_the_messages_each_subscriber_gets_alone(runtime):
    # given every role subscribed with the same documents three times on the sharing schema,
    # and once on a schema that executes every event per subscriber (graphql-core's path)
    config = runtime.config
    hub = runtime.live.hub
    shared = build_schema(config, show_error_detail=False, expose_sql_statements=False)
    alone = build_schema(
        config, show_error_detail=False, expose_sql_statements=False, share_event_results=False
    )
    callers = principals(runtime)
    readers = {}
    for name, query in EXPECTED:
        readers[(name, query)] = (
            Reader(await subscribe(runtime, alone, callers[name], query)),
            [Reader(await subscribe(runtime, shared, callers[name], query)) for _ in range(3)],
        )
    listening = 4 * sum(1 for count in EXPECTED.values() if count)
    async with asyncio.timeout(BOUND):
        while True:  # every subscription registered (a condition, polled)
            if hub.listeners >= listening:
                break
            await asyncio.sleep(0.01)

    # when the history commits and reaches the hub
    async with SqlUnitOfWork(runtime.engine) as uow:
        await uow.outbox.add(history())
        await uow.commit()
    await hub.catch_up()

    # then each subscriber on the sharing schema receives, byte for byte, what the
    # subscriber executing alone receives, and that is its own rows only
    for (name, query), count in EXPECTED.items():
        reference, copies = readers[(name, query)]
        expected = await reference.received(count)
        for copy in copies:
            assert await copy.received(count) == expected, (name, query)
        if count == 0:
            assert json.loads(expected[0])["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        for text in expected:
            data = json.loads(text)["data"]
            change = next(iter(data.values())) if data else None
            if change and name == "supplier A":
                assert change["invoiceId"] == INV_A
            if change and name == "supplier B":
                assert change["invoiceId"] == INV_B
    # and the sharing schema executed each event once per group of three, not three times
    renderings = shared.execution_context_class.shared_renderings
    delivered = sum(EXPECTED.values())
    assert (renderings.executed, renderings.shared) == (delivered, 2 * delivered)
    for reference, copies in readers.values():
        for reader in (reference, *copies):
            await reader.stream.aclose()


async def test_subscribers_with_equal_scope_and_filter_share_one_decision_per_event(runtime):
    # given two portal tabs of one supplier, one of another, and the first supplier again
    # with a filter
    hub = runtime.live.hub
    everything = InvoiceChanges(frozenset(), frozenset(), frozenset())
    only_a = InvoiceChanges(frozenset({INV_A}), frozenset(), frozenset())
    tabs = [hub.listen(10, Visible(RowScope(supplier_id=SUP_A), everything)) for _ in range(2)]
    other = hub.listen(10, Visible(RowScope(supplier_id=SUP_B), everything))
    filtered = hub.listen(10, Visible(RowScope(supplier_id=SUP_A), only_a))

    # then the hub judges each event three times, not four
    assert (hub.listeners, hub.groups) == (4, 3)

    # and when an event of each supplier arrives, each listener holds its own only
    async with SqlUnitOfWork(runtime.engine) as uow:
        await uow.outbox.add(history()[:2])
        await uow.commit()
    await hub.catch_up()
    for listener, invoice in [(tabs[0], INV_A), (tabs[1], INV_A), (other, INV_B)]:
        live = await anext(aiter(listener))
        assert live.record.invoice_id == invoice
    assert (await anext(aiter(filtered))).record.invoice_id == INV_A
    for listener in [*tabs, other, filtered]:
        hub.drop(listener)
    assert (hub.listeners, hub.groups) == (0, 0)


class CountingAuthenticator:
    def __init__(self) -> None:
        self.calls = 0
        self.refuse = False

    async def authenticate(self, headers: Headers) -> Principal:
        self.calls += 1
        await asyncio.sleep(0)  # another socket may ask meanwhile
        if self.refuse:
            raise AuthenticationFailed("the client this token was issued to has been revoked")
        return Principal(subject="s", roles=frozenset(), scopes=frozenset(), facility_ids=None)


async def test_sockets_holding_one_token_share_one_periodic_verification():
    # given many sockets of one token and one of another, re-checking at once
    authenticator = CountingAuthenticator()
    rechecks = Rechecks(authenticator, fresh_for=3600)  # type: ignore[arg-type]
    same = Headers({"authorization": "Bearer one"})
    other = Headers({"authorization": "Bearer two"})
    await asyncio.gather(*(rechecks.authenticate(same) for _ in range(50)))
    await rechecks.authenticate(other)
    # then the token was verified once for all its sockets, the other token on its own
    assert authenticator.calls == 2
    # and a refusal is shared the same way, once it is no longer fresh
    authenticator.refuse = True
    expired = Rechecks(authenticator, fresh_for=0)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationFailed):
        await expired.authenticate(same)


@pytest.fixture(scope="module")
async def server(tmp_path_factory, network):
    async with live_server_on_a_database_of_its_own(tmp_path_factory, network, "fanout") as api:
        yield api


@pytest.fixture(scope="module")
def orders(network) -> Orders:
    """The server's never-billed POs, each billed once."""
    return Orders(network)


PORTAL = "/products/supplier-portal/v1/graphql"  # suppliers' endpoint


async def submit(api, order) -> str:
    token = api.token(Role.SUPPLIER, supplier_id=order.supplier.id)
    body = await api.graphql(
        SUBMIT,
        {"input": as_input(order.clean_invoice()), "key": f"fanout-{order.order.id}"},
        token=token,
        product="supplier-portal/v1",
    )
    assert "errors" not in body, body
    assert body["data"]["submitInvoice"]["invoice"] is not None, body
    return body["data"]["submitInvoice"]["invoice"]["id"]


async def now(api) -> dict[str, str]:
    """Variables subscribing after the newest event: nothing from now on is missed, however
    long the server takes to register the subscription."""
    (edge,) = (await api.graphql(NOW))["data"]["events"]["edges"]
    return {"after": edge["cursor"]}


async def test_two_suppliers_on_one_document_each_receive_their_own_invoices_only(
    server, orders, network
):
    # given two suppliers subscribed with the same document
    mine = orders.take("postgresql", "full")
    theirs = orders.take("postgresql", "full")
    while theirs.supplier.id == mine.supplier.id:
        theirs = orders.take("postgresql", "full")
    base = str(server.client.base_url)
    a_token = server.token(Role.SUPPLIER, supplier_id=mine.supplier.id)
    b_token = server.token(Role.SUPPLIER, supplier_id=theirs.supplier.id)
    async with (
        Subscriber.connect(base, a_token, PORTAL) as a,
        Subscriber.connect(base, b_token, PORTAL) as b,
    ):
        after = await now(server)
        await a.subscribe(LIVE_STATUS, after)
        await b.subscribe(LIVE_STATUS, after)
        # when each submits an invoice
        first = await submit(server, mine)
        second = await submit(server, theirs)
        # then each sees its own invoice through to POSTED, and never the other's
        seen_a = await changes_until_posted(a, first)
        seen_b = await changes_until_posted(b, second)
    # (the server's own background work, such as finishing interrupted postings, may send a
    # supplier changes of its other invoices too: those are its own as well)
    supplier_of = {invoice.id: invoice.supplier_id for invoice in network.invoices}
    supplier_of |= {first: mine.supplier.id, second: theirs.supplier.id}
    assert {supplier_of[c["invoiceId"]] for c in seen_a} == {mine.supplier.id}
    assert {supplier_of[c["invoiceId"]] for c in seen_b} == {theirs.supplier.id}
    seen_a = [c for c in seen_a if c["invoiceId"] == first]
    assert [c["status"] for c in seen_a] == ["RECEIVED", "VALIDATED", "MATCHED", "POSTED"]


async def test_a_revoked_client_in_a_shared_group_is_ended_while_the_others_keep_receiving(
    server, orders
):
    # given two partner clients of one facility (equal scopes and rows: one group) on the
    # same document
    order = orders.take("postgresql", "full")
    facility = order.order.facility_id
    revoked, kept = [await partners.register(server, facilities=[facility]) for _ in range(2)]
    # no product gives partners subscriptions yet (they get webhooks), so their sockets are
    # held on /graphql of the same database served with it open to every role: what is
    # tested is how a revocation ends one member of a shared group, for when one does
    raw = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text(encoding="utf-8"))
    raw["internal_schema"] = {"scope": None}
    app = create_app(server.settings, GatewayConfig.model_validate(raw))
    with serving(app, name="fanout partners' server") as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            served = Api(client, "postgresql", server.issuer, server.settings)
            await _revoked_while_the_other_keeps_receiving(served, base, order, revoked, kept)


async def _revoked_while_the_other_keeps_receiving(server, base, order, revoked, kept):
    async with (
        Subscriber.connect(base, partners.token_for(server, revoked)) as gone,
        Subscriber.connect(base, partners.token_for(server, kept)) as stays,
    ):
        after = await now(server)
        await gone.subscribe(LIVE_STATUS, after)
        await stays.subscribe(LIVE_STATUS, after)
        # when an operator revokes the first client
        await revoke(server, revoked.client_id)
        # then its socket is ended with 4403
        _, code = await until_closed(gone.ws)
        assert code == 4403
        # and the other keeps receiving its facility's events
        invoice = await submit(server, order)
        seen = await changes_until_posted(stays, invoice)
    assert [c["status"] for c in seen if c["invoiceId"] == invoice] == [
        "RECEIVED",
        "VALIDATED",
        "MATCHED",
        "POSTED",
    ]
