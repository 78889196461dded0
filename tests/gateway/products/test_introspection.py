"""Introspection per product: off in production unless the product allows it; in dev each
product serves GraphiQL at its own path."""

from collections.abc import AsyncIterator

import pytest

from apgraph.domain.principal import Role
from tests.conftest import Api
from tests.gateway.products.conftest import app_with

INTROSPECTION = {"query": "{ __schema { queryType { name } } }"}


def finance_ops_introspectable(raw: dict) -> None:
    raw["products"]["finance-ops"]["introspection_in_production"] = True


@pytest.fixture(scope="module")
async def production(seeded_database, tmp_path_factory) -> AsyncIterator[Api]:
    data_dir = tmp_path_factory.mktemp("production")
    async with app_with(
        seeded_database, data_dir, finance_ops_introspectable, environment="production"
    ) as api:
        yield api


async def test_introspection_is_off_in_production_unless_the_product_allows_it(production):
    supplier = production.token(Role.SUPPLIER, supplier_id="SUP-000001")
    clerk = production.token(Role.AP_CLERK)

    portal = await production.client.post(
        production.path("supplier-portal/v1"),
        json=INTROSPECTION,
        headers=production.headers(supplier),
    )
    finance = await production.client.post(
        production.path("finance-ops/v1"), json=INTROSPECTION, headers=production.headers(clerk)
    )

    errors = portal.json()["errors"]
    assert "introspection" in errors[0]["message"].lower()
    assert {error["extensions"]["code"] for error in errors} == {"GRAPHQL_VALIDATION_FAILED"}
    assert finance.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_production_serves_no_ide(production):
    response = await production.client.get(
        production.path("finance-ops/v1"), headers={"accept": "text/html"}
    )
    assert response.status_code == 401  # no page: the endpoint wants a token, as for queries
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("product", ["supplier-portal", "finance-ops", "partner-procurement"])
async def test_each_product_serves_graphiql_at_its_own_path_in_dev(api, product):
    response = await api.client.get(api.path(f"{product}/v1"), headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "<html" in response.text.lower()
