"""Demand control over HTTP: each operation is priced before it runs; too dear an operation,
too deep a document or a spent cost budget is refused with a stable code and no SQL."""

from collections.abc import AsyncIterator

import pytest

from apgraph.domain.principal import Role
from apgraph.store.database import counting_statements
from tests.conftest import Api
from tests.gateway.products.conftest import app_with

PORTAL = "supplier-portal/v1"
# 1 + 100 x (edges + node + supplier) = 301: three fit in 1000 a minute, a fourth does not,
# with a margin no window boundary passing during the test can eat
PAGE_OF_IDS = "{ invoices(first: 100) { edges { node { id supplier { id } } } } }"
BOMB = (
    "{ invoices(first: 100) { edges { node { id lines { description } "
    "supplier { legalName contacts { name } } payment { id } } } } }"
)


def small_budgets(raw: dict) -> None:
    raw["products"]["supplier-portal"]["limits"] = {
        "max_depth": 5,
        "max_aliases": 20,
        "max_tokens": 3000,
        "max_cost": 500,
        "requests_per_minute": 50,
        "cost_per_minute": 1000,
    }


@pytest.fixture(scope="module")
async def budgeted(seeded_database, tmp_path_factory) -> AsyncIterator[Api]:
    async with app_with(seeded_database, tmp_path_factory.mktemp("costs"), small_budgets) as api:
        yield api


async def post(api: Api, query: str, supplier: str):
    token = api.token(Role.SUPPLIER, supplier_id=supplier)
    with counting_statements() as count:
        response = await api.client.post(
            api.path(PORTAL), json={"query": query}, headers=api.headers(token)
        )
    return response, count.statements


async def test_an_operation_over_the_cost_limit_is_refused_with_its_cost_before_running(
    budgeted,
):
    response, statements = await post(budgeted, BOMB, "SUP-000001")

    body = response.json()
    assert body["data"] is None
    (error,) = body["errors"]
    # 1 + 100 x (edges 1 + node 1 + lines 10 + supplier 1 + contacts 10 + payment 1)
    assert error["extensions"] == {"code": "COST_LIMIT_EXCEEDED", "cost": 2401, "maxCost": 500}
    assert statements == 0


async def test_the_cost_is_reported_so_clients_can_tune(budgeted):
    response, _ = await post(budgeted, "{ viewer { subject } }", "SUP-000002")
    assert response.json()["extensions"]["cost"] == {"estimated": 1, "maximum": 500}


async def test_a_document_deeper_than_the_products_limit_is_refused_before_running(budgeted):
    deep = "{ invoices { edges { node { purchaseOrder { supplier { remitTo { last4 } } } } } } }"
    response, statements = await post(budgeted, deep, "SUP-000003")

    (error,) = response.json()["errors"]
    assert "exceeds maximum operation depth of 5" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert statements == 0


async def test_a_spent_cost_budget_answers_429_until_the_window_has_room(budgeted):
    # given three pages of 301 units spent of 1000 a minute
    for _ in range(3):
        response, _ = await post(budgeted, PAGE_OF_IDS, "SUP-000004")
        assert response.status_code == 200, response.text

    # when a fourth would overdraw the budget
    response, statements = await post(budgeted, PAGE_OF_IDS, "SUP-000004")

    # then it is refused with 429, its cost, and when to retry; nothing ran
    assert response.status_code == 429
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["cost"] == 301
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["ratelimit-limit"] == "1000"
    assert statements == 0


async def test_another_clients_budget_is_its_own(budgeted):
    for _ in range(3):
        await post(budgeted, PAGE_OF_IDS, "SUP-000005")
    response, _ = await post(budgeted, PAGE_OF_IDS, "SUP-000006")
    assert response.status_code == 200


def aliased(count: int) -> str:
    return "{ " + " ".join(f"a{i}: viewer {{ subject }}" for i in range(count)) + " }"


async def test_more_aliases_than_the_products_limit_are_refused_before_running(budgeted):
    # this portal admits 20 aliases
    response, statements = await post(budgeted, aliased(21), "SUP-000010")
    (error,) = response.json()["errors"]
    assert "aliases" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert statements == 0


async def test_more_tokens_than_the_products_limit_are_refused_before_running(budgeted):
    # this portal admits 3000 tokens; each `__typename` is one
    query = "{ " + "__typename " * 3100 + "}"
    response, statements = await post(budgeted, query, "SUP-000011")
    (error,) = response.json()["errors"]
    assert "token" in error["message"].lower()
    assert statements == 0


async def test_a_body_over_the_limit_is_refused_before_it_is_read(budgeted):
    token = budgeted.token(Role.SUPPLIER, supplier_id="SUP-000012")
    body = (
        b'{"query": "'
        + b" " * (budgeted.settings.max_request_bytes + 1)
        + b'{ viewer { subject } }"}'
    )
    with counting_statements() as count:
        response = await budgeted.client.post(
            budgeted.path(PORTAL),
            content=body,
            headers={**budgeted.headers(token), "content-type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert count.statements == 0
