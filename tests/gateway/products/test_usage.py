"""Usage per product: each request to a product version counted per client and operation,
in the database, for `apgraph products usage` and the operators' `productUsage` field."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from apgraph.domain.principal import Role
from apgraph.store.usage import UsageRepository
from tests.conftest import ROOT, Api
from tests.gateway.products.conftest import app_with
from tests.gateway.products.test_websocket import run_over_socket

PORTAL = "supplier-portal/v1"
USAGE = """
query Usage($product: String) {
  productUsage(product: $product) { product version client operation requests errors }
}
"""


def as_shipped(raw: dict) -> None:
    return None


@pytest.fixture(scope="module")
async def counted(seeded_database, tmp_path_factory) -> AsyncIterator[Api]:
    async with app_with(seeded_database, tmp_path_factory.mktemp("usage"), as_shipped) as api:
        yield api


async def flush(api: Api) -> None:
    """What the server's background task does every few seconds."""
    assert api.runtime is not None
    await api.runtime.usage.flush(UsageRepository(api.runtime.engine))


async def test_each_product_request_is_counted_per_client_and_operation(counted):
    # given a supplier calling the portal twice by name, once with a field it does not have
    supplier = counted.token(Role.SUPPLIER, supplier_id="SUP-000007")
    for _ in range(2):
        await counted.graphql(
            "query PortalHome { viewer { supplierId } }",
            token=supplier,
            product="supplier-portal/v1",
        )
    await counted.graphql(
        "query Broken { auditLog { totalCount } }", token=supplier, product="supplier-portal/v1"
    )
    await flush(counted)

    # when an operator asks who called the portal
    data = await counted.data(USAGE, {"product": "supplier-portal"})

    # then each operation is a row of its own, errors counted
    mine = {
        row["operation"]: row
        for row in data["productUsage"]
        if row["client"] == "portal.sup-000007"
    }
    assert mine["PortalHome"] == {
        "product": "supplier-portal",
        "version": "v1",
        "client": "portal.sup-000007",
        "operation": "PortalHome",
        "requests": 2,
        "errors": 0,
    }
    assert (mine["Broken"]["requests"], mine["Broken"]["errors"]) == (1, 1)


async def test_refusals_count_as_errors_of_an_unparsed_operation(counted):
    clerk = counted.token(Role.AP_CLERK)
    response = await counted.client.post(
        counted.path("supplier-portal/v1"),
        json={"query": "{ viewer { subject } }"},
        headers=counted.headers(clerk),
    )
    assert response.status_code == 403
    await flush(counted)
    data = await counted.data(USAGE, {"product": "supplier-portal"})
    refused = [row for row in data["productUsage"] if row["client"] == "clerk.demo"]
    assert [(r["operation"], r["errors"]) for r in refused] == [("(not parsed)", 1)]


async def test_only_operators_read_usage(counted):
    # an auditor finds it neither in finance-ops' view nor behind /graphql's operators' door
    auditor = counted.token(Role.AUDITOR)
    body = await counted.graphql(USAGE, token=auditor, product="finance-ops/v1")
    internal = await counted.graphql(USAGE, token=auditor)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert internal["errors"][0]["extensions"]["code"] == "OPERATORS_ONLY"


async def test_the_command_line_shows_usage_per_version(counted):
    supplier = counted.token(Role.SUPPLIER, supplier_id="SUP-000008")
    await counted.graphql(
        "query CliSeen { viewer { supplierId } }", token=supplier, product="supplier-portal/v1"
    )
    await flush(counted)
    settings = counted.settings
    env = {"APGRAPH_DATABASE_URL": settings.resolved_database_url}
    if settings.database_schema:
        env["APGRAPH_DATABASE_SCHEMA"] = settings.database_schema

    result = usage_command(env, "--product", "supplier-portal", "--version", "v1")

    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if "CliSeen" in line]
    assert line.split()[:6] == ["supplier-portal", "v1", "portal.sup-000008", "CliSeen", "1", "0"]


def usage_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    return subprocess.run(
        [sys.executable, "-m", "apgraph.cli", "products", "usage", *args]
        + ["--since", "2000-01-01"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_websocket_operations_are_counted_too(live_api):
    # given a supplier running a named operation over the portal's WebSocket
    supplier = live_api.token(Role.SUPPLIER, supplier_id="SUP-000009")
    kind, _ = await run_over_socket(
        live_api, PORTAL, supplier, "query OverSocket { viewer { supplierId } }"
    )
    assert kind == "payload"

    # when the server has added its counts (every few seconds), then an operator sees them
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        data = await live_api.data(USAGE, {"product": "supplier-portal"})
        rows = [r for r in data["productUsage"] if r["operation"] == "OverSocket"]
        if rows or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.5)
    assert [(r["client"], r["requests"], r["errors"]) for r in rows] == [
        ("portal.sup-000009", 1, 0)
    ]
