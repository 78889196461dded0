"""The fast path of reads answers exactly as the generic executor does, for every role.

Two apps over one runtime and one seeded database (SQLite and PostgreSQL): one answers
queries through the fast path (apgraph/gateway/fast_reads.py), the other with
APGRAPH_FAST_READS=false. Generated selections over the invoice graph (random subsets of
fields at each level, nested lists, pages with first/after, aliases, named and inline
fragments, variables, @skip/@include, fields the fast path does not plan) must get the same
`data` and `errors`, key for key and in the same order, from both, for each caller.

Both apps serve /graphql, the full schema, to every role (gateway.yaml's `internal_schema`
null, for this module only): the executors are compared on every field under each role's
row rules, scopes and masks; a product's view only narrows what a role can ask (the portal's
own endpoint is compared too). Served as shipped, /graphql would refuse all but operators
alike, and each comparison would hold without comparing anything.
"""

import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import strawberry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.websockets import WebSocket

from apgraph.demo import generator
from apgraph.domain.principal import Principal, Role
from apgraph.gateway.app import ApGraphQL, create_app
from apgraph.gateway.request_context import context_for
from apgraph.gateway.runtime import Runtime
from apgraph.gateway.schema import build_schema
from apgraph.policies.gateway import InternalSchema
from apgraph.policies.loader import load_gateway_config
from apgraph.schema.pagination import encode_cursor
from apgraph.store.database import counting_statements
from bench.portal_page import PORTAL_PAGE  # the benchmark's page is one of the compared
from tests.conftest import Api, settings_for
from tests.databases import Database
from tests.gateway import partners

# The invoice graph as a generator sees it: each type's fields, and the type of those that
# need a selection. Fields the fast path does not plan are in too (they must fall back).
GRAPH: dict[str, dict[str, str | None]] = {
    "Invoice": {
        "id": None,
        "supplierInvoiceNumber": None,
        "invoiceDate": None,
        "dueDate": None,
        "subtotal": "Money",
        "tax": "Money",
        "total": "Money",
        "status": None,
        "receivedAt": None,
        "erpDocumentRef": None,
        "supplier": "Supplier",
        "facility": "Facility",
        "costCenter": "CostCenter",
        "purchaseOrder": "PurchaseOrder",
        "lines": "InvoiceLine",
        "approvalStatus": None,
        "assignedTo": None,
        "exceptions": "InvoiceException",
        "approvedExceptions": "InvoiceException",
        "history": "StatusChange",
        "approvals": "Approval",
        "payment": "Payment",  # not planned: falls back
        "__typename": None,
    },
    "InvoiceException": {"code": None, "lineNo": None, "message": None},
    "StatusChange": {
        "at": None,
        "fromStatus": None,
        "toStatus": None,
        "actor": None,
        "note": None,
    },
    "Approval": {"approver": None, "decision": None, "at": None, "note": None},
    "Payment": {"id": None, "status": None},
    "BankAccount": {
        "bankName": None,
        "routingNumber": None,
        "accountNumber": None,  # classified: whole with suppliers:bank:read, audited
        "last4": None,
    },
    "Money": {"amount": None, "currency": None},
    "InvoiceLine": {
        "lineNo": None,
        "poLineNo": None,
        "itemId": None,
        "description": None,
        "quantity": None,
        "unitOfMeasure": None,
        "unitPrice": "Money",
        "amount": "Money",
    },
    "Supplier": {
        "id": None,
        "legalName": None,
        "taxId": None,  # classified: masked for partners
        "status": None,
        "paymentTerms": None,
        "taxTreatment": None,
        "taxRate": None,
        "contacts": "Contact",
        "remitTo": "BankAccount",
    },
    "Contact": {"name": None, "email": None, "phone": None, "role": None},
    "PurchaseOrder": {
        "id": None,
        "status": None,
        "currency": None,
        "orderedOn": None,
        "supplier": "Supplier",
        "facility": "Facility",
        "costCenter": "CostCenter",
        "lines": "PurchaseOrderLine",
    },
    "PurchaseOrderLine": {
        "lineNo": None,
        "itemId": None,
        "description": None,
        "category": None,
        "quantity": None,
        "unitOfMeasure": None,
        "unitPrice": "Money",
    },
    "CostCenter": {
        "id": None,
        "code": None,
        "name": None,
        "active": None,
        "facility": "Facility",
    },
    "Facility": {
        "id": None,
        "name": None,
        "region": None,
        "timezone": None,
        "costCenters": "CostCenter",
    },
    "PageInfo": {
        "hasNextPage": None,
        "hasPreviousPage": None,
        "startCursor": None,
        "endCursor": None,
    },
}
MAX_DEPTH = 3  # object levels below an invoice

# The fields PostgreSQL builds as JSON (their schema fields are `stored`): an operation that
# selects only these under `invoices` is answered by the page's one statement.
STORED_GRAPH: dict[str, dict[str, str | None]] = {
    "Invoice": {
        name: GRAPH["Invoice"][name]
        for name in (
            "id",
            "supplierInvoiceNumber",
            "invoiceDate",
            "dueDate",
            "subtotal",
            "tax",
            "total",
            "status",
            "receivedAt",
            "erpDocumentRef",
            "supplier",
            "costCenter",
            "purchaseOrder",
            "facility",
            "lines",
            "__typename",
        )
    },
    "Money": GRAPH["Money"],
    "InvoiceLine": GRAPH["InvoiceLine"],
    "Supplier": {"id": None, "legalName": None, "status": None},
    "PurchaseOrder": {"id": None, "status": None, "currency": None, "orderedOn": None},
    "CostCenter": {"id": None, "code": None, "name": None, "active": None},
    "Facility": {"id": None, "name": None, "region": None, "timezone": None},
    "PageInfo": GRAPH["PageInfo"],
}


@dataclass(frozen=True)
class Operation:
    query: str
    variables: dict[str, Any]

    def __repr__(self) -> str:  # hypothesis prints the failing example
        return f"{self.query}\nvariables: {json.dumps(self.variables)}"


@st.composite
def selections(
    draw: st.DrawFn, type_name: str, depth: int, graph: dict[str, dict[str, str | None]] = GRAPH
) -> str:
    fields = graph[type_name]
    names = [n for n, child in fields.items() if child is None or depth < MAX_DEPTH]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=6, unique=True))
    parts = []
    for name in chosen:
        child = fields[name]
        text = name
        if draw(st.integers(0, 5)) == 0:
            text = f"{draw(st.sampled_from(['a', 'b', 'c']))}{name}: {name}"
        elif draw(st.integers(0, 11)) == 0:  # keys the fast path's generated code must quote
            text = f"{draw(st.sampled_from(['class', 'None', 'v0', 'parent']))}: {name}"
        if child is not None:
            text += " { " + draw(selections(child, depth + 1, graph)) + " }"
        directive = draw(st.integers(0, 11))
        if directive == 0:
            text += " @include(if: $yes)"
        elif directive == 1:
            text += " @skip(if: $no)"
        elif directive == 2:
            text += " @skip(if: $yes)"
        elif directive == 3:
            text += " @include(if: false)"
        parts.append(text)
    if type_name == "Invoice":
        form = draw(st.integers(0, 4))
        if form == 0:
            parts.append("... on Invoice { id status }")
        elif form == 1:
            parts.append("...InvoiceBits")
        elif form == 2:
            parts.append("... on Node { id }")
        elif form == 3:
            parts.append("... @include(if: $yes) { total { amount } }")
    return " ".join(parts)


@st.composite
def operations(
    draw: st.DrawFn,
    suppliers: list[str],
    invoice_ids: list[str],
    graph: dict[str, dict[str, str | None]] = GRAPH,
) -> Operation:
    """An operation over `graph`, with a total count now and then."""
    parts = []
    if draw(st.integers(0, 5)) > 0:  # now and then a page without its edges
        node = draw(selections("Invoice", 0, graph))
        edge = draw(st.sampled_from(["node { %s }", "cursor node { %s }", "node { %s } cursor"]))
        parts.append("edges { " + edge % node + " }")
    if draw(st.booleans()):
        parts.append("pageInfo { " + draw(selections("PageInfo", 0, graph)) + " }")
    if draw(st.integers(0, 3)) == 0:
        parts.append("totalCount")
    if not parts or draw(st.integers(0, 5)) == 0:
        parts.append("__typename")
    connection = " ".join(parts)
    variables: dict[str, Any] = {
        "yes": True,
        "no": False,
        "first": draw(st.integers(1, 12)),
        "after": draw(st.one_of(st.none(), st.sampled_from(invoice_ids).map(encode_cursor))),
        "supplier": draw(st.sampled_from(suppliers)),
        "one": draw(st.sampled_from(invoice_ids)),
    }
    filtered = draw(st.booleans())
    arguments = "first: $first, after: $after"
    if filtered:
        arguments = "filter: {supplierId: $supplier}, " + arguments
    roots = [f"invoices({arguments}) {{ {connection} }}"]
    if draw(st.integers(0, 3)) == 0:
        roots.append("single: invoice(id: $one) { " + draw(selections("Invoice", 0, graph)) + " }")
    if draw(st.integers(0, 5)) == 0:
        roots.append("__typename")
    query = (
        "query Generated($yes: Boolean!, $no: Boolean!, $first: Int, $after: String, "
        "$supplier: ID!, $one: ID!) { " + " ".join(roots) + " }\n"
        "fragment InvoiceBits on Invoice { supplierInvoiceNumber total { amount currency } "
        "lines { lineNo amount { amount } } }"
    )
    if "...InvoiceBits" not in query.split("fragment")[0]:
        query = query.split("\nfragment")[0]
    if not filtered:  # a declared variable must be used
        query = query.replace("$supplier: ID!, ", "")
        del variables["supplier"]
    if "$one" not in query.split(")", 1)[1]:
        query = query.replace(", $one: ID!", "")
        del variables["one"]
    for name, declaration in (("yes", "$yes: Boolean!, "), ("no", "$no: Boolean!, ")):
        if f"${name})" not in query:
            query = query.replace(declaration, "")
            del variables[name]
    return Operation(query, variables)


@dataclass
class Pair:
    fast: httpx.AsyncClient
    generic: httpx.AsyncClient
    api: Api
    tokens: dict[str, str]
    answered: list[str]  # what the fast path logged it answered
    runtime: Runtime  # both apps'

    @property
    def engine(self) -> AsyncEngine:
        return self.runtime.engine

    @property
    def app(self) -> SimpleNamespace:
        """What the context and the view read of the ASGI app: its runtime."""
        return SimpleNamespace(state=SimpleNamespace(runtime=self.runtime))

    def internal_schema(self) -> strawberry.Schema:
        """The operators' schema, as the apps build it, for use outside them."""
        config = self.runtime.config
        return build_schema(config, show_error_detail=False, expose_sql_statements=False)

    async def both(
        self, operation: Operation, token: str, *, path: str = "/graphql"
    ) -> tuple[Any, Any]:
        payload = {"query": operation.query, "variables": operation.variables}
        headers = {"Authorization": f"Bearer {token}"}
        self.answered.clear()
        fast = await self.fast.post(path, json=payload, headers=headers)
        generic = await self.generic.post(path, json=payload, headers=headers)
        assert fast.status_code == generic.status_code
        return answer(fast.json()), answer(generic.json())


def answer(body: dict[str, Any]) -> str:
    """`data` and `errors` as JSON text: equal only with the same keys in the same order."""
    return json.dumps({"data": body.get("data"), "errors": body.get("errors")}, indent=1)


@pytest.fixture(scope="module")
async def pair(
    seeded_database: Database,
    tmp_path_factory: pytest.TempPathFactory,
    network: generator.DemoNetwork,
) -> AsyncIterator[Pair]:
    settings = settings_for(seeded_database, tmp_path_factory.mktemp("data"))
    config = load_gateway_config(settings.gateway_config)
    config = config.model_copy(update={"internal_schema": InternalSchema(scope=None)})
    runtime = Runtime.open(settings, config)
    await runtime.keyring.reload()
    fast_app = create_app(settings, config, runtime=runtime)
    generic_app = create_app(
        settings.model_copy(update={"fast_reads": False}), config, runtime=runtime
    )
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=fast_app), base_url="http://fast"
        ) as fast,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=generic_app), base_url="http://generic"
        ) as generic,
    ):
        assert runtime.issuer is not None
        api = Api(fast, seeded_database.backend, runtime.issuer, settings)
        answered: list[str] = []
        handler = Answered(answered)
        logger = logging.getLogger("apgraph.fast_reads")
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            tokens = await callers(api, network)
            yield Pair(fast, generic, api, tokens, answered, runtime)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
    await runtime.close()


class Answered(logging.Handler):
    """Collects the operations the fast path says it answered."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("answered "):
            self.into.append(record.getMessage())


def busiest_supplier(network: generator.DemoNetwork) -> str:
    counts = Counter(invoice.supplier_id for invoice in network.invoices)
    return counts.most_common(1)[0][0]


async def callers(api: Api, network: generator.DemoNetwork) -> dict[str, str]:
    """A token per role; the supplier is the busiest one (its own rows only), the approver
    and the partner client are limited to one facility (row scoping by facility)."""
    facility = network.invoices[0].facility_id
    client = await partners.register(api, facilities=[facility])
    return {
        "supplier": api.token(Role.SUPPLIER, supplier_id=busiest_supplier(network)),
        "ap_clerk": api.token(Role.AP_CLERK),
        "approver": api.token(Role.APPROVER, facility_ids=[facility]),
        "finance_admin": api.token(Role.FINANCE_ADMIN),
        "auditor": api.token(Role.AUDITOR),
        "partner": partners.token_for(api, client),
    }


ROLES = ["supplier", "ap_clerk", "approver", "finance_admin", "auditor", "partner"]


@pytest.mark.parametrize("role", ROLES)
async def test_the_portal_page_is_answered_by_the_fast_path_as_by_the_generic_executor(
    pair: Pair, network: generator.DemoNetwork, role: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given the portal page of the busiest supplier, asked by each role
    token = pair.tokens[role]
    page = Operation(PORTAL_PAGE, {"supplier": busiest_supplier(network), "first": 20})

    # when both apps answer it
    with caplog.at_level(logging.DEBUG, logger="apgraph.fast_reads"):
        fast, generic = await pair.both(page, token)

    # then the answers are the same, and the fast path gave it (PostgreSQL built it)
    assert fast == generic
    assert "answered PortalPage" in caplog.text
    built = "answered PortalPage through the fast path (invoices built by the database)"
    assert (built in caplog.text) == (pair.engine.dialect.name == "postgresql")
    assert '"errors": null' in fast


async def test_in_process_the_page_the_database_built_is_plain_values(
    pair: Pair, network: generator.DemoNetwork, caplog: pytest.LogCaptureFixture
) -> None:
    # given the schema executed in-process, as a WebSocket or Server-Sent Events operation
    # runs it (no HTTP view, whose encoder alone writes the database's JSON text as it is)
    supplier = busiest_supplier(network)
    runtime = pair.runtime
    schema = pair.internal_schema()
    principal = Principal(
        subject="supplier-1",
        roles=frozenset({Role.SUPPLIER}),
        scopes=runtime.config.access.scopes_of(frozenset({Role.SUPPLIER})),
        supplier_id=supplier,
    )
    # what the context and the extensions read of a WebSocket
    request = SimpleNamespace(app=pair.app, scope={"type": "websocket"})
    context = context_for(
        runtime, principal, schema=schema, request=request, response=None, trace_id="t-1"
    )
    variables = {"supplier": supplier, "first": 20}

    # when the fast path answers the portal page there
    with caplog.at_level(logging.DEBUG, logger="apgraph.fast_reads"):
        result = await schema.execute(PORTAL_PAGE, variables, context_value=context)

    # then its data is Python's own lists and dicts, as the generic executor answers over HTTP
    assert result.errors is None
    _, generic = await pair.both(Operation(PORTAL_PAGE, variables), pair.tokens["supplier"])
    assert answer({"data": result.data}) == generic
    assert json.dumps(result.data)  # nothing only orjson could write
    built = "answered PortalPage through the fast path (invoices built by the database)"
    assert (built in caplog.text) == (pair.engine.dialect.name == "postgresql")


async def test_only_the_http_view_lets_the_fast_path_embed_json_text(pair: Pair) -> None:
    # given the GraphQL view, and a request and a WebSocket as Starlette hands them over
    view = ApGraphQL(pair.internal_schema())
    app = pair.app
    http = {"type": "http", "app": app, "method": "POST", "path": "/graphql", "headers": []}
    socket = {"type": "websocket", "app": app, "path": "/graphql", "headers": []}

    async def nothing() -> dict[str, Any]:
        return {}

    async def ignore(_message: Any) -> None:
        return None

    # when it builds each one's context
    over_http = await view.get_context(Request(http))
    over_socket = await view.get_context(WebSocket(socket, nothing, ignore))

    # then only the HTTP answer, which orjson encodes, may carry the database's JSON text
    assert over_http.embeds_json is True
    assert over_socket.embeds_json is False


@pytest.mark.parametrize("path", ["fast", "generic"])
async def test_a_query_takes_a_pooled_connection_per_level_not_per_statement(
    pair: Pair, network: generator.DemoNetwork, path: str
) -> None:
    # given the portal page with its invoices' facility and history too: the page's read,
    # then a level of reads at once (facility and history, and, unless the fast path read
    # them with the page, lines and supplier)
    page = {
        "query": PORTAL_PAGE.replace(
            "costCenter { id code name }",
            "costCenter { id code name } facility { id } history { toStatus }",
        ),
        "variables": {"supplier": busiest_supplier(network), "first": 20},
    }
    client = pair.fast if path == "fast" else pair.generic
    taken: list[None] = []

    def checkout(*_: Any) -> None:
        taken.append(None)

    # when the fast path or the generic executor answers it
    event.listen(pair.engine.sync_engine, "checkout", checkout)
    try:
        with counting_statements() as counted:
            response = await client.post(
                "/products/supplier-portal/v1/graphql",
                json=page,
                headers={"Authorization": f"Bearer {pair.tokens['supplier']}"},
            )
    finally:
        event.remove(pair.engine.sync_engine, "checkout", checkout)

    # then the reads that ran at once shared a connection: one for the page, one for the
    # level below (given back between them, so the query holds none while it completes a
    # level), not one per statement
    assert len(response.json()["data"]["invoices"]["edges"]) == 20
    assert counted.statements >= 3
    assert len(taken) == 2


@pytest.mark.parametrize("path", ["fast", "generic"])
@pytest.mark.parametrize("first", [5, 20])
async def test_the_portal_page_takes_the_same_statements_whatever_its_size(
    pair: Pair, network: generator.DemoNetwork, path: str, first: int
) -> None:
    # given the portal page of any size, on either path
    page = {
        "query": PORTAL_PAGE,
        "variables": {"supplier": busiest_supplier(network), "first": first},
    }
    client = pair.fast if path == "fast" else pair.generic

    # when it is answered (its statements counted as sqlStatements counts them: on PostgreSQL
    # the page's and its lines' statements run on the driver, past SQLAlchemy's cursor events)
    with counting_statements() as counted:
        response = await client.post(
            "/products/supplier-portal/v1/graphql",
            json=page,
            headers={"Authorization": f"Bearer {pair.tokens['supplier']}"},
        )

    # then the invoices come with their POs and cost centers (the loaders were primed with
    # them); the generic executor reads lines and the supplier after the page; the fast
    # path joins the supplier to the page, and on PostgreSQL builds the lines into it too
    assert len(response.json()["data"]["invoices"]["edges"]) == first
    if path == "generic":
        assert counted.statements == 3
    else:
        assert counted.statements == (1 if pair.engine.dialect.name == "postgresql" else 2)


async def test_the_supplier_portal_product_answers_its_page_alike(
    pair: Pair, network: generator.DemoNetwork
) -> None:
    # given the supplier portal's own endpoint (its view, cost and rate limits run first)
    page = Operation(PORTAL_PAGE, {"supplier": busiest_supplier(network), "first": 20})

    # when both apps answer the supplier's page there
    fast, generic = await pair.both(
        page, pair.tokens["supplier"], path="/products/supplier-portal/v1/graphql"
    )

    # then alike, and through the fast path
    assert fast == generic
    assert pair.answered
    assert '"errors": null' in fast


async def test_a_masked_field_is_masked_and_an_audited_read_is_audited_alike(
    pair: Pair, network: generator.DemoNetwork
) -> None:
    # given a partner (taxId masked) and an admin, asking for suppliers' tax ids
    operation = Operation(
        "query Taxes { invoices(first: 5) { edges { node { supplier { id taxId } } } } }", {}
    )
    for role in ("partner", "finance_admin", "supplier"):
        token = pair.tokens[role]

        # when both apps answer
        fast, generic = await pair.both(operation, token)

        # then the same values, masked the same way
        assert fast == generic


RICH = """
query Rich($first: Int!, $yes: Boolean!, $no: Boolean!) {
  page: invoices(first: $first) {
    totalCount
    __typename
    pageInfo { hasNextPage endCursor startCursor }
    edges {
      cursor
      node {
        ...Head
        ... on Node { id }
        billed: total { amount currency }
        approvalStatus assignedTo
        exceptions { code lineNo message } approvedExceptions { code }
        history { at fromStatus toStatus actor note } approvals { approver decision at }
        supplier {
          id legalName taxId status paymentTerms taxTreatment taxRate
          remitTo @include(if: $yes) { bankName routingNumber accountNumber last4 }
          contacts @skip(if: $no) { name email phone role }
        }
        purchaseOrder {
          id status currency orderedOn
          lines { lineNo itemId category quantity unitPrice { amount currency } }
          supplier { id } facility { id name } costCenter { id code }
        }
        costCenter { id code active facility { id region costCenters { id code } } }
        lines { lineNo poLineNo itemId description quantity unitOfMeasure amount { amount } }
      }
    }
  }
  one: invoice(id: "INV-00000001") { id status tax { amount } }
  __typename
}
fragment Head on Invoice { id supplierInvoiceNumber invoiceDate dueDate receivedAt status
  erpDocumentRef subtotal { amount currency } }
"""


@pytest.mark.parametrize("role", ROLES)
async def test_a_rich_selection_is_answered_by_the_fast_path_alike(
    pair: Pair, role: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given aliases, fragments, variables, @skip/@include, nested lists and classified fields
    operation = Operation(RICH, {"first": 12, "yes": True, "no": False})

    # when both apps answer it
    with caplog.at_level(logging.DEBUG, logger="apgraph.fast_reads"):
        fast, generic = await pair.both(operation, pair.tokens[role])

    # then alike, and through the fast path wherever the role may read every field
    assert fast == generic
    if '"errors": null' in generic:
        assert "answered Rich" in caplog.text


TOTALS_AND_FACILITIES = """
query Totals($first: Int) {
  invoices(first: $first) {
    totalCount
    edges { node { id facility { id name region timezone } billed: facility { name } } }
  }
}
"""


@pytest.mark.parametrize("role", ROLES)
async def test_a_page_with_its_total_and_facilities_is_built_by_postgresql_alike(
    pair: Pair, role: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given a page selecting its total count and each invoice's facility (twice, aliased)
    operation = Operation(TOTALS_AND_FACILITIES, {"first": 9})

    # when both apps answer it
    with caplog.at_level(logging.DEBUG, logger="apgraph.fast_reads"):
        fast, generic = await pair.both(operation, pair.tokens[role])

    # then alike, and on PostgreSQL built by the database wherever the role may read every
    # field (a caller sees only invoices of facilities it sees, so none is null here)
    assert fast == generic
    if '"errors": null' in generic and pair.engine.dialect.name == "postgresql":
        assert "answered Totals through the fast path (invoices built by" in caplog.text


ROOTS = [
    "{ suppliers(first: 7) { totalCount edges { cursor node { id legalName taxId status "
    "contacts { name } } } pageInfo { hasNextPage endCursor } } }",
    "query S($id: ID!) { supplier(id: $id) { id legalName taxRate remitTo { last4 } } }",
    "{ purchaseOrders(first: 6, filter: {openToBill: true}) { edges { node { id status "
    "currency orderedOn lines { lineNo quantity unitPrice { amount } } supplier { id } "
    "costCenter { code facility { name } } } } } }",
    "query P($po: ID!) { purchaseOrder(id: $po) { id lines { itemId category } } }",
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("query", ROOTS)
async def test_other_roots_of_the_invoice_graph_are_answered_alike(
    pair: Pair, network: generator.DemoNetwork, role: str, query: str
) -> None:
    variables = {"id": busiest_supplier(network), "po": network.purchase_orders[0].id}
    used = {name: value for name, value in variables.items() if f"${name}" in query}
    fast, generic = await pair.both(Operation(query, used), pair.tokens[role])
    assert fast == generic
    if '"errors": null' in generic:
        assert pair.answered


async def test_an_audited_read_is_audited_alike_by_both_paths(pair: Pair) -> None:
    # given an admin, who sees account numbers whole (and each such read is audited)
    query = Operation(
        "query Bank { invoices(first: 30) { edges { node { supplier { id "
        "remitTo { accountNumber } } } } } }",
        {},
    )
    token = pair.tokens["finance_admin"]
    newest = (
        '{ auditLog(filter: {action: "field.read"}, first: 1) '
        "{ totalCount edges { node { subject entityIds outcome detail } } } }"
    )
    events = []
    for client in (pair.fast, pair.generic):
        # when each path answers the read
        response = await client.post(
            "/graphql", json={"query": query.query}, headers={"Authorization": f"Bearer {token}"}
        )
        assert "errors" not in response.json()
        log = await pair.api.data(newest, token=token)
        events.append(log["auditLog"])

    # then each wrote the same field.read event, naming the same suppliers
    fast, generic = events
    assert generic["totalCount"] == fast["totalCount"] + 1
    assert fast["edges"] == generic["edges"]
    assert fast["edges"][0]["node"]["entityIds"]


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { queryType { name } } }",  # introspection
        "{ invoices(first: 2) { edges { node { id history { toStatus } } } } }",  # unplanned
        "{ invoices(first: 0) { edges { node { id } } } }",  # refused argument
        '{ invoices(first: 2, after: "nonsense") { edges { node { id } } } }',  # bad cursor
        '{ invoice(id: "not-an-id") { id } }',  # bad id
        "{ suppliers(first: 2) { edges { node { id } } } }",  # a root without a fast path
        "{ invoices(first: 2) { edges { node { id } } } me: viewer { subject } }",
    ],
)
async def test_operations_outside_the_fast_path_fall_back_and_answer_alike(
    pair: Pair, network: generator.DemoNetwork, query: str
) -> None:
    for role in ("supplier", "finance_admin", "partner"):
        token = pair.tokens[role]
        fast, generic = await pair.both(Operation(query, {}), token)
        assert fast == generic


async def test_a_refused_field_is_refused_and_audited_by_the_generic_executor(
    pair: Pair, network: generator.DemoNetwork
) -> None:
    # given a supplier asking for a field its role may not read (the invoice's payment run
    # is for finance), through an operation the fast path would otherwise plan
    token = pair.tokens["partner"]
    query = "{ invoices(first: 2) { edges { node { id supplier { id remitTo { last4 } } } } } }"

    # when both answer
    fast, generic = await pair.both(Operation(query, {}), token)

    # then alike, errors included
    assert fast == generic


GENERATED = settings(
    max_examples=30,
    derandomize=True,  # the same selections on every run: a failure is reproducible
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def generated(
    data: st.DataObject,
    network: generator.DemoNetwork,
    graph: dict[str, dict[str, str | None]] = GRAPH,
) -> Operation:
    """An operation over `graph`, on a few suppliers' invoices and the busiest one's."""
    suppliers = sorted({invoice.supplier_id for invoice in network.invoices})
    invoice_ids = sorted(invoice.id for invoice in network.invoices)
    return data.draw(operations(suppliers[:5] + [busiest_supplier(network)], invoice_ids, graph))


@pytest.mark.parametrize("role", ROLES)
@GENERATED
@given(data=st.data())
async def test_generated_selections_get_the_same_answer_from_both_paths(
    pair: Pair, network: generator.DemoNetwork, role: str, data: st.DataObject
) -> None:
    # given a generated operation over the invoice graph, asked by `role`
    operation = generated(data, network)
    token = pair.tokens[role]

    # when both paths answer it
    fast, generic = await pair.both(operation, token)

    # then field for field, error for error
    assert fast == generic, operation
    # and the fast path answered it, unless the generic executor answered errors (a field the
    # role may not read) or it selects a field the fast path does not plan (payment)
    if '"errors": null' in generic and "payment {" not in operation.query:
        assert pair.answered, operation


@pytest.mark.parametrize("role", ROLES)
@GENERATED
@given(data=st.data())
async def test_generated_selections_of_stored_fields_are_built_by_postgresql_alike(
    pair: Pair, network: generator.DemoNetwork, role: str, data: st.DataObject
) -> None:
    # given a generated operation whose `invoices` selects only fields the database renders
    # (STORED_GRAPH), with pages, cursors, aliases, fragments and directives, by `role`
    operation = generated(data, network, STORED_GRAPH)
    token = pair.tokens[role]

    # when both paths answer it
    fast, generic = await pair.both(operation, token)

    # then field for field, error for error
    assert fast == generic, operation
    # and on PostgreSQL the page was built by the database, unless the generic executor
    # answered errors (a field the role may not read)
    if '"errors": null' in generic and pair.engine.dialect.name == "postgresql":
        assert any("invoices built by the database" in line for line in pair.answered), (
            operation,
            pair.answered,
        )
