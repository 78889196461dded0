"""A view hides arguments and enum values as it hides fields: naming one fails validation
like a typo, introspection and the SDL never show it, and a hidden value is never answered.
Over real HTTP (a uvicorn server on loopback), on the `live_api` database."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import build_client_schema, build_schema, get_introspection_query

from apgraph.domain.principal import Role
from apgraph.gateway.app import create_app
from apgraph.policies.gateway import GatewayConfig
from tests.conftest import ROOT, Api
from tests.gateway.products.conftest import shipped_config
from tests.gateway.products.test_views import printed
from tests.live_server import serving

PORTAL = "supplier-portal/v1"
HIDDEN = [
    "Query.invoices(after)",  # an argument of a root field
    "InvoiceStatus.POSTING_FAILED",  # an enum value, as input (filters) and output
    "SupplierStatus.ACTIVE",  # the status every demo supplier has: answered, then refused
]


def narrowed_config() -> GatewayConfig:
    raw: dict[str, Any] = shipped_config()
    view = raw["products"]["supplier-portal"]["versions"]["v1"]["view"]
    view["hidden"] = [*view["hidden"], *HIDDEN]
    return GatewayConfig.model_validate(raw)


@pytest.fixture(scope="module")
async def narrowed(live_api: Api) -> AsyncIterator[Api]:
    """The live database and keys, served with a supplier portal that hides more."""
    app = create_app(live_api.settings, narrowed_config())
    with serving(app, name="narrowed portal") as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield Api(client, "postgresql", live_api.issuer, live_api.settings)


@pytest.fixture
def supplier(narrowed: Api, network) -> str:
    return narrowed.token(Role.SUPPLIER, supplier_id=network.suppliers[0].id)


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    (error,) = body["errors"]
    return error


async def test_a_hidden_argument_fails_validation_like_an_unknown_one(narrowed, supplier):
    # when a supplier names the hidden argument, and one that exists nowhere
    hidden = await narrowed.graphql(
        '{ invoices(after: "x") { totalCount } }', token=supplier, product=PORTAL
    )
    unknown = await narrowed.graphql(
        '{ invoices(aftr: "x") { totalCount } }', token=supplier, product=PORTAL
    )

    # then both fail validation alike, before anything is read
    error = only_error(hidden)
    assert error["message"].startswith("Unknown argument 'after' on field 'Query.invoices'.")
    assert only_error(unknown)["message"].startswith("Unknown argument 'aftr' on field")
    assert error["extensions"]["code"] == only_error(unknown)["extensions"]["code"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert hidden["extensions"]["sqlStatements"] == 0


async def test_the_field_keeps_working_without_the_hidden_argument(narrowed, supplier):
    data = await narrowed.data(
        "{ invoices(first: 1) { totalCount } }", token=supplier, product=PORTAL
    )
    assert data["invoices"]["totalCount"] >= 0


async def test_a_hidden_enum_value_fails_validation_like_an_unknown_one(narrowed, supplier):
    # when a supplier filters by the hidden status, and by one that exists nowhere
    query = "{ invoices(filter: {status: [%s]}) { totalCount } }"
    hidden = await narrowed.graphql(query % "POSTING_FAILED", token=supplier, product=PORTAL)
    unknown = await narrowed.graphql(query % "POSTING_FAILD", token=supplier, product=PORTAL)

    # then both fail validation alike, before anything is read
    error = only_error(hidden)
    assert error["message"].startswith(
        "Value 'POSTING_FAILED' does not exist in 'InvoiceStatus' enum."
    )
    assert error["extensions"]["code"] == only_error(unknown)["extensions"]["code"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert hidden["extensions"]["sqlStatements"] == 0


async def test_a_hidden_enum_value_in_variables_is_bad_input_like_an_unknown_one(
    narrowed, supplier
):
    query = "query($s: [InvoiceStatus!]) { invoices(filter: {status: $s}) { totalCount } }"
    hidden = await narrowed.graphql(
        query, {"s": ["POSTING_FAILED"]}, token=supplier, product=PORTAL
    )
    unknown = await narrowed.graphql(
        query, {"s": ["POSTING_FAILD"]}, token=supplier, product=PORTAL
    )
    assert only_error(hidden)["extensions"]["code"] == "BAD_USER_INPUT"
    assert only_error(unknown)["extensions"]["code"] == "BAD_USER_INPUT"
    assert hidden["extensions"]["sqlStatements"] == 0


async def test_introspection_and_the_sdl_show_neither_hidden_arguments_nor_values(
    narrowed, supplier
):
    # when a supplier introspects the portal and downloads its SDL
    query = get_introspection_query(descriptions=True, specified_by_url=True)
    body = await narrowed.graphql(query, token=supplier, product=PORTAL)
    sdl = await narrowed.client.get(
        f"/products/{PORTAL}/schema.graphql", headers=narrowed.headers(supplier)
    )

    # then both are the same view, without the hidden argument and values
    assert sdl.status_code == 200
    schema = build_schema(sdl.text)
    assert printed(schema) == printed(build_client_schema(body["data"]))
    assert "after" not in schema.query_type.fields["invoices"].args
    assert "after" in schema.query_type.fields["purchaseOrders"].args  # only the one named
    assert "POSTING_FAILED" not in schema.get_type("InvoiceStatus").values
    assert "ACTIVE" not in schema.get_type("SupplierStatus").values
    assert "POSTED" in schema.get_type("InvoiceStatus").values


async def test_a_hidden_value_is_never_answered_the_field_is_refused_instead(
    narrowed, supplier, network
):
    # given a supplier whose status is ACTIVE, a value the view hides
    supplier_id = network.suppliers[0].id
    query = "query($id: ID!) { supplier(id: $id) { id legalName status } }"
    full = await narrowed.data(query, {"id": supplier_id})  # operators' /graphql
    assert full["supplier"]["status"] == "ACTIVE"

    # when it reads its status through the portal
    response = await narrowed.client.post(
        narrowed.path(PORTAL),
        json={"query": query, "variables": {"id": supplier_id}},
        headers=narrowed.headers(supplier),
    )

    # then the field is refused with a stable code, null propagates, and the value never leaves
    body = response.json()
    assert body["data"] == {"supplier": None}
    error = only_error(body)
    assert error["extensions"]["code"] == "NOT_IN_VIEW"
    assert error["path"] == ["supplier", "status"]
    assert "ACTIVE" not in response.text


async def test_the_full_schema_keeps_every_argument_and_value_for_operators(narrowed):
    sdl = build_schema((ROOT / "contracts" / "apgraph.graphql").read_text(encoding="utf-8"))
    assert "after" in sdl.query_type.fields["invoices"].args
    data = await narrowed.data(
        "{ invoices(first: 1, after: null, filter: {status: [POSTING_FAILED]}) { totalCount } }"
    )
    assert data["invoices"]["totalCount"] >= 0


async def test_the_shipped_portal_v2_hides_what_only_finance_uses(narrowed, supplier):
    # given the shipped portal's v2 (beta): v1 less the supplier filter and finance's codes
    query = '{ invoices(filter: {supplierId: "SUP-000001"}) { totalCount } }'

    # when a supplier names what v2 hides
    v1 = await narrowed.data(query, token=supplier, product="supplier-portal/v1")
    v2 = await narrowed.graphql(query, token=supplier, product="supplier-portal/v2")
    sdl = await narrowed.client.get(
        "/products/supplier-portal/v2/schema.graphql", headers=narrowed.headers(supplier)
    )

    # then v1 still serves it as its contract promised, and v2 knows it not
    assert v1["invoices"]["totalCount"] >= 0
    assert only_error(v2)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    codes = build_schema(sdl.text).get_type("UserErrorCode").values
    assert "NOTHING_TO_PAY" not in codes
    assert "NO_LINES" in codes  # submitInvoice's own codes stay
    assert sdl.text == (ROOT / "contracts" / "supplier-portal" / "v2.graphql").read_text(
        encoding="utf-8"
    )
