"""A version's lifecycle on the wire: deprecated versions still answer, with Deprecation,
Sunset and a Link to the successor; retired ones are refused naming the successor."""

from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime

import pytest

from apgraph.domain.principal import Role
from apgraph.store.database import counting_statements
from tests.conftest import Api
from tests.gateway.products.conftest import app_with

QUERY = {"query": "{ viewer { supplierId } }"}


def portal_in_three_versions(raw: dict) -> None:
    """v0 retired, v1 deprecated, v2 active: the same view each."""
    portal = raw["products"]["supplier-portal"]
    view = portal["versions"]["v1"]["view"]
    portal["versions"] = {
        "v0": {"status": "retired", "successor": "v2", "view": view},
        "v1": {
            "status": "deprecated",
            "deprecated_since": "2026-11-01",
            "sunset": "2027-03-31",
            "successor": "v2",
            "view": view,
        },
        "v2": {"status": "active", "view": view},
    }


@pytest.fixture(scope="module")
async def versioned(seeded_database, tmp_path_factory) -> AsyncIterator[Api]:
    data_dir = tmp_path_factory.mktemp("versioned")
    async with app_with(seeded_database, data_dir, portal_in_three_versions) as api:
        yield api


async def test_a_deprecated_version_answers_with_deprecation_sunset_and_its_successor(versioned):
    supplier = versioned.token(Role.SUPPLIER, supplier_id="SUP-000001")

    response = await versioned.client.post(
        versioned.path("supplier-portal/v1"), json=QUERY, headers=versioned.headers(supplier)
    )

    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": {"supplierId": "SUP-000001"}}
    assert response.headers["deprecation"] == "@1793491200"  # 2026-11-01T00:00:00Z (RFC 9745)
    assert parsedate_to_datetime(response.headers["sunset"]).date().isoformat() == "2027-03-31"
    assert response.headers["link"] == (
        '</products/supplier-portal/v2/graphql>; rel="successor-version"'
    )


async def test_an_active_version_carries_no_deprecation_headers(versioned):
    supplier = versioned.token(Role.SUPPLIER, supplier_id="SUP-000001")
    response = await versioned.client.post(
        versioned.path("supplier-portal/v2"), json=QUERY, headers=versioned.headers(supplier)
    )
    assert response.status_code == 200
    assert "deprecation" not in response.headers
    assert "sunset" not in response.headers


async def test_a_retired_version_is_refused_naming_its_successor_before_anything_runs(versioned):
    supplier = versioned.token(Role.SUPPLIER, supplier_id="SUP-000001")

    with counting_statements() as count:
        response = await versioned.client.post(
            versioned.path("supplier-portal/v0"), json=QUERY, headers=versioned.headers(supplier)
        )

    assert response.status_code == 410
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "VERSION_RETIRED", "successor": "v2"}
    assert "/products/supplier-portal/v2/graphql" in error["message"]
    assert count.statements == 0
