"""Each product version serves a view of the one schema: outside the view nothing exists,
for validation, introspection, node(id) and fragments alike."""

from collections.abc import AsyncIterator

import pytest
from graphql import (
    GraphQLSchema,
    build_client_schema,
    build_schema,
    get_introspection_query,
    lexicographic_sort_schema,
    print_schema,
)

from apgraph.domain.principal import Role
from apgraph.gateway.products.routes import ProductSchemas
from apgraph.policies.gateway import GatewayConfig
from apgraph.store.database import counting_statements
from tests.conftest import ROOT, Api
from tests.gateway.partners import token_for
from tests.gateway.products.conftest import app_with, shipped_config

PORTAL = "supplier-portal/v1"
PARTNER = "partner-procurement/v1"


def printed(schema: GraphQLSchema) -> str:
    """Types in name order, as the contracts are written."""
    return print_schema(lexicographic_sort_schema(schema))


async def test_a_supplier_portal_operation_naming_the_audit_log_fails_like_an_unknown_field(
    api, network
):
    # given a supplier's token
    supplier = api.token(Role.SUPPLIER, supplier_id=network.suppliers[0].id)

    # when it asks the portal for the audit log, and for a field that exists nowhere
    hidden = await api.graphql("{ auditLog { totalCount } }", token=supplier, product=PORTAL)
    unknown = await api.graphql("{ auditLogz { totalCount } }", token=supplier, product=PORTAL)

    # then both fail validation the same way, before anything is read
    (error,) = hidden["errors"]
    assert error["message"] == "Cannot query field 'auditLog' on type 'Query'."
    assert error["extensions"]["code"] == unknown["errors"][0]["extensions"]["code"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert hidden["extensions"]["sqlStatements"] == 0


async def test_the_full_schema_still_has_the_audit_log_for_operators(api):
    data = await api.data("{ auditLog(first: 1) { totalCount } }")
    assert data["auditLog"]["totalCount"] >= 0


async def test_introspection_and_the_sdl_endpoint_show_the_view_only(api, partner):
    # when a partner introspects its product and downloads the SDL
    body = await api.graphql(get_introspection_query(), token=partner, product=PARTNER)
    sdl = await api.client.get(f"/products/{PARTNER}/schema.graphql", headers=api.headers(partner))

    # then both are the same view, without what the view leaves out
    assert sdl.status_code == 200
    assert printed(build_schema(sdl.text)) == printed(build_client_schema(body["data"]))
    for absent in ("auditLog", "type BankAccount", "type Payment ", "approveInvoice", "assignedTo"):
        assert absent not in sdl.text
    assert "validatePurchaseOrder" in sdl.text


def any_partner_operation(raw: dict) -> None:
    """The partner product without its allow-list, to send it ad-hoc documents."""
    raw["products"]["partner-procurement"]["persisted_operations"] = {}


@pytest.fixture(scope="module")
async def open_partner(seeded_database, tmp_path_factory) -> AsyncIterator[Api]:
    data_dir = tmp_path_factory.mktemp("open-partner")
    async with app_with(seeded_database, data_dir, any_partner_operation) as api:
        yield api


async def test_a_fragment_on_a_type_outside_the_view_fails_validation(open_partner, partner_client):
    body = await open_partner.graphql(
        "query($id: ID!) { node(id: $id) { ... on Payment { id } } }",
        {"id": "PAY-00000001"},
        token=token_for(open_partner, partner_client),
        product=PARTNER,
    )
    (error,) = body["errors"]
    assert error["message"] == "Unknown type 'Payment'."


def portal_without_payments(raw: dict) -> None:
    """The portal's view less payments: its suppliers keep the payments:read scope."""
    view = raw["products"]["supplier-portal"]["versions"]["v1"]["view"]
    view["Query"] = [name for name in view["Query"] if name not in ("payment", "payments")]
    view["hidden"] = [*view.get("hidden", []), "Invoice.payment"]


@pytest.fixture(scope="module")
async def paymentless_portal(seeded_database, tmp_path_factory) -> AsyncIterator[Api]:
    data_dir = tmp_path_factory.mktemp("paymentless")
    async with app_with(seeded_database, data_dir, portal_without_payments) as api:
        yield api


async def test_node_answers_null_for_a_type_outside_the_view_without_reading_it(
    paymentless_portal, network
):
    # given a supplier's own payment, which its scopes would let it read
    payment = network.payments[0]
    supplier = paymentless_portal.token(Role.SUPPLIER, supplier_id=payment.supplier_id)
    query = "query($id: ID!) { node(id: $id) { id } }"
    full = await paymentless_portal.data(
        query, {"id": payment.id}, token=supplier, product="supplier-portal/v2"
    )
    assert full["node"] == {"id": payment.id}  # on the portal's v2, whose view has payments

    # when it asks through a portal whose view has no payments
    body = await paymentless_portal.graphql(
        query, {"id": payment.id}, token=supplier, product="supplier-portal/v1"
    )

    # then it is as unknown as a made-up ID, and nothing was read
    assert body == {"data": {"node": None}, "extensions": body["extensions"]}
    assert body["extensions"]["sqlStatements"] == 0


async def test_a_role_the_product_does_not_admit_is_refused_before_anything_runs(api, network):
    # given a supplier token
    supplier = api.token(Role.SUPPLIER, supplier_id=network.suppliers[0].id)

    # when it calls the partner product
    with counting_statements() as count:
        response = await api.client.post(
            api.path(PARTNER),
            json={"query": "{ viewer { subject } }"},
            headers=api.headers(supplier),
        )

    # then it is refused with a stable code, and no SQL was sent
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "PRODUCT_NOT_ADMITTED"
    assert count.statements == 0


async def test_an_admitted_role_is_served(api, network):
    supplier_id = network.suppliers[0].id
    supplier = api.token(Role.SUPPLIER, supplier_id=supplier_id)
    data = await api.data("{ viewer { supplierId } }", token=supplier, product=PORTAL)
    assert data == {"viewer": {"supplierId": supplier_id}}


@pytest.mark.parametrize("product", ["supplier-portal", "finance-ops", "partner-procurement"])
async def test_each_products_introspection_equals_its_frozen_contract(api, partner, product):
    # given a token the product admits
    tokens = {
        "supplier-portal": api.token(Role.SUPPLIER, supplier_id="SUP-000001"),
        "finance-ops": api.token(Role.AP_CLERK),
        "partner-procurement": partner,
    }

    # when it introspects the product over HTTP
    body = await api.graphql(
        get_introspection_query(descriptions=True, specified_by_url=True),
        token=tokens[product],
        product=f"{product}/v1",
    )

    # then it sees exactly the contract frozen for the version
    contract = (ROOT / "contracts" / product / "v1.graphql").read_text(encoding="utf-8")
    assert printed(build_client_schema(body["data"])) == printed(build_schema(contract))


@pytest.mark.parametrize("product", ["supplier-portal", "finance-ops", "partner-procurement"])
def test_the_schema_demand_control_prices_against_is_the_frozen_contract(api, product):
    # given the product's v1 schema, as the app builds it
    config = GatewayConfig.model_validate(shipped_config())
    view = ProductSchemas.build(api.settings, config).by_version[(product, "v1")]

    # then the graphql-core schema its cost is computed on is the contract, descriptions and all
    contract = (ROOT / "contracts" / product / "v1.graphql").read_text(encoding="utf-8")
    assert printed(view.graphql_core_schema) == printed(build_schema(contract))
    assert view.graphql_core_schema is view.graphql_core_schema  # parsed once
