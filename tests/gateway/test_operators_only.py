"""/graphql is the full internal schema, for operators (the admin scope): every other caller
is refused there over HTTP, WebSocket and Server-Sent Events, before the body is read, with
a stable code naming the product endpoints it may use instead."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from graphql import get_introspection_query

from apgraph.domain.principal import Role
from apgraph.gateway.app import create_app
from apgraph.policies.gateway import GatewayConfig
from apgraph.store.database import counting_statements
from tests.conftest import Api
from tests.gateway.partners import register, token_for
from tests.gateway.products.conftest import app_with, shipped_config
from tests.gateway.test_websocket import handshake
from tests.live_server import serving

PORTAL = "/products/supplier-portal/v1/graphql"
FINANCE = "/products/finance-ops/v1/graphql"
PARTNER = "/products/partner-procurement/v1/graphql"


def operators_only(raw: dict[str, Any]) -> None:
    """gateway.yaml's shipped default: /graphql for the admin scope only."""
    raw["internal_schema"] = {"scope": "admin"}


@pytest.fixture(scope="module")
async def operators_api(live_api: Api) -> AsyncIterator[Api]:
    """The live database and keys, served with /graphql for operators only."""
    raw = shipped_config()
    operators_only(raw)
    app = create_app(live_api.settings, GatewayConfig.model_validate(raw))
    with serving(app, name="operators-only server") as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield Api(client, "postgresql", live_api.issuer, live_api.settings)


def tokens(api: Api) -> dict[str, str]:
    return {
        "supplier": api.token(Role.SUPPLIER, supplier_id="SUP-000001"),
        "ap_clerk": api.token(Role.AP_CLERK),
        "approver": api.token(Role.APPROVER, facility_ids=["FAC-0001"]),
        "auditor": api.token(Role.AUDITOR),
    }


@pytest.mark.parametrize(
    ("role", "endpoints"),
    [
        ("supplier", ["/products/supplier-portal/v1/graphql"]),
        ("ap_clerk", [FINANCE]),
        ("approver", [FINANCE]),
        ("auditor", [FINANCE]),
    ],
)
async def test_a_caller_without_the_admin_scope_is_refused_and_told_its_product(
    operators_api, role, endpoints
):
    # when a non-operator posts an operation to /graphql
    response = await operators_api.client.post(
        "/graphql",
        json={"query": "{ viewer { subject } }"},
        headers=operators_api.headers(tokens(operators_api)[role]),
    )

    # then it is refused with a stable code, as JSON, naming where to go instead
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/json")
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "OPERATORS_ONLY", "endpoints": endpoints}
    assert response.json()["data"] is None


@pytest.mark.parametrize("role", ["supplier", "approver", "partner"])
async def test_the_tests_own_gateway_yaml_refuses_non_operators_on_graphql_too(live_api, role):
    # given the suite's gateway.yaml (tests/gateway.yaml), as every other test is served
    token = (
        token_for(live_api, await register(live_api, facilities=["FAC-0001"]))
        if role == "partner"
        else tokens(live_api)[role]
    )

    # when a supplier, an approver or a partner posts to /graphql
    response = await live_api.client.post(
        "/graphql", json={"query": "{ viewer { subject } }"}, headers=live_api.headers(token)
    )

    # then it is refused at the operators' door, as the shipped configuration refuses it
    assert response.status_code == 403
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "OPERATORS_ONLY"
    assert response.json()["data"] is None


async def test_a_partner_is_refused_and_pointed_at_the_partner_product(operators_api):
    partner = token_for(operators_api, await register(operators_api, facilities=["FAC-0001"]))
    response = await operators_api.client.post(
        "/graphql", json={"query": "{ viewer { subject } }"}, headers=operators_api.headers(partner)
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["endpoints"] == [PARTNER]


async def test_a_get_request_is_refused_too(operators_api):
    response = await operators_api.client.get(
        "/graphql",
        params={"query": "{ viewer { subject } }"},
        headers=operators_api.headers(tokens(operators_api)["ap_clerk"]),
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "OPERATORS_ONLY"


async def test_an_operator_is_served_the_full_schema(operators_api):
    # the finance admin's token carries the admin scope
    data = await operators_api.data("{ viewer { scopes } connectors { system } }")
    assert "admin" in data["viewer"]["scopes"]
    assert data["connectors"]


async def test_the_admin_role_without_the_admin_scope_in_its_token_is_refused(operators_api):
    # given a finance admin whose token's `scope` claim narrows it to reading
    narrowed = operators_api.issuer.issue(
        subject="fa-reader",
        now=datetime.now(UTC),
        claims={"roles": ["finance_admin"], "scope": "invoices:read"},
    ).access_token

    # when it calls /graphql, it is refused: the scope decides, not the role
    response = await operators_api.client.post(
        "/graphql",
        json={"query": "{ viewer { subject } }"},
        headers=operators_api.headers(narrowed),
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["endpoints"] == [FINANCE]


async def test_a_websocket_of_a_non_operator_is_closed_before_it_opens(operators_api):
    supplier = tokens(operators_api)["supplier"]
    assert await handshake(operators_api, subprotocol="graphql-transport-ws", token=supplier) in (
        ("http", 403),  # a close before the accept is an HTTP 403 to the client
        ("closed", 4403),
    )
    kind, message = await handshake(
        operators_api, subprotocol="graphql-transport-ws", token=operators_api.admin
    )
    assert (kind, '"connection_ack"' in message) == ("open", True)


async def test_server_sent_events_of_a_non_operator_are_refused(operators_api):
    response = await operators_api.client.post(
        "/graphql/stream",
        json={"query": "subscription { invoiceStatusChanged { invoiceId } }"},
        headers={
            **operators_api.headers(tokens(operators_api)["ap_clerk"]),
            "Accept": "text/event-stream",
        },
    )
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "OPERATORS_ONLY"


async def test_the_same_caller_is_served_on_its_product(operators_api):
    clerk = tokens(operators_api)["ap_clerk"]
    data = await operators_api.data("{ viewer { roles } }", token=clerk, product="finance-ops/v1")
    assert data == {"viewer": {"roles": ["ap_clerk"]}}


@pytest.fixture(scope="module")
async def in_process(seeded_database, tmp_path_factory) -> AsyncIterator[Api]:
    """The same gate in process, where the statements a request sends can be counted."""
    async with app_with(
        seeded_database, tmp_path_factory.mktemp("operators-only"), operators_only
    ) as api:
        yield api


async def test_the_refusal_sends_no_sql_and_reads_no_body(in_process):
    # given an operation that would read much, from a supplier
    supplier = in_process.token(Role.SUPPLIER, supplier_id="SUP-000001")

    # when it is sent to /graphql
    with counting_statements() as count:
        response = await in_process.client.post(
            "/graphql",
            json={"query": get_introspection_query()},
            headers=in_process.headers(supplier),
        )

    # then it is refused before the database is touched
    assert response.status_code == 403
    assert count.statements == 0


async def test_the_graphql_ide_points_the_demo_reader_at_its_product_ide(operators_api):
    # when this machine's browser opens /graphql's GraphiQL (dev)
    internal = await operators_api.client.get("/graphql", headers={"accept": "text/html"})
    product = await operators_api.client.get(FINANCE, headers={"accept": "text/html"})

    # then the page carries no token the reader would be refused with, and links to the
    # product's IDE, where the demo reader (an AP clerk) is signed in
    assert internal.status_code == 200
    assert "Bearer ey" not in internal.text
    assert f'<a id="product-ide" href="{FINANCE}">' in internal.text
    assert 'Signed in as <b id="subject">graphiql.demo</b>' in product.text


async def test_a_non_operator_streams_server_sent_events_from_its_product(operators_api):
    # when an AP clerk subscribes over the finance-ops product's SSE endpoint
    async with operators_api.client.stream(
        "POST",
        FINANCE + "/stream",
        json={"query": "subscription { invoiceStatusChanged { invoiceId } }"},
        headers={
            **operators_api.headers(tokens(operators_api)["ap_clerk"]),
            "Accept": "text/event-stream",
        },
    ) as response:
        # then the stream opens (it is left before any event arrives)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
