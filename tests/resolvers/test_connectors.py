"""`connectors` and `migrationDifferences` over HTTP, on SQLite and PostgreSQL."""

import uuid
from datetime import UTC, datetime, timedelta

from apgraph.domain.erp import FieldDifference
from apgraph.domain.ids import FacilityId, InvoiceId
from apgraph.domain.principal import Role
from apgraph.services.ports.connectors import MigrationDifference
from apgraph.store.connector_state import SqlMigrationDifferences

CONNECTORS = """
{ connectors { system endpoint reachable problem breaker calls failures lastError } }
"""
DIFFERENCES = """
query($facility: ID!, $limit: Int) {
  migrationDifferences(facilityId: $facility, limit: $limit) {
    facilityId invoiceId field legacyValue cloudValue recordedAt
  }
}
"""


async def test_operators_see_every_system_reachable_with_its_breaker(api):
    data = await api.data(CONNECTORS)

    assert [(c["system"], c["reachable"], c["breaker"]) for c in data["connectors"]] == [
        ("LEGACY_ERP", True, "CLOSED"),
        ("CLOUD_ERP", True, "CLOSED"),
        ("MATERIALS", True, "CLOSED"),
        ("SOURCING", True, "CLOSED"),
        ("ANALYTICS", True, "CLOSED"),
    ]
    assert {c["endpoint"] for c in data["connectors"]} == {"in-process"}
    assert all(c["problem"] is None for c in data["connectors"])


async def test_a_supplier_may_not_see_the_connectors(api):
    token = api.token(Role.SUPPLIER, supplier_id="SUP-000001")

    # not on its portal (no product's view has the connectors), nor on /graphql (operators')
    portal = await api.graphql(CONNECTORS, token=token, product="supplier-portal/v1")
    internal = await api.graphql(CONNECTORS, token=token)

    assert portal["data"] is None
    assert portal["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert internal["data"] is None
    assert internal["errors"][0]["extensions"]["code"] == "OPERATORS_ONLY"


async def test_the_differences_of_a_facility_come_newest_first(api, seeded_database):
    # given two differences recorded for FAC-0003 by shadow postings, an hour apart
    engine = seeded_database.engine()
    key = f"post-{uuid.uuid4()}"
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    invoice = InvoiceId("INV-00000003")
    try:
        await SqlMigrationDifferences(engine).record(
            [
                MigrationDifference(
                    FacilityId("FAC-0003"),
                    invoice,
                    key,
                    FieldDifference("due_date", "2026-12-01", "2026-12-16"),
                    at,
                ),
                MigrationDifference(
                    FacilityId("FAC-0003"),
                    invoice,
                    key,
                    FieldDifference("total", "10.50", "10.49"),
                    at + timedelta(hours=1),
                ),
            ]
        )
    finally:
        await engine.dispose()

    # when an operator asks for them
    data = await api.data(DIFFERENCES, {"facility": "FAC-0003", "limit": 2})

    # then the newest comes first, with canonical field names and values as text
    assert [
        (d["field"], d["legacyValue"], d["cloudValue"]) for d in data["migrationDifferences"]
    ] == [("total", "10.50", "10.49"), ("dueDate", "2026-12-01", "2026-12-16")]
    assert {d["invoiceId"] for d in data["migrationDifferences"]} == {invoice}


async def test_a_facility_without_differences_has_an_empty_list(api):
    data = await api.data(DIFFERENCES, {"facility": "FAC-0006"})

    assert data["migrationDifferences"] == []


async def test_a_malformed_facility_id_or_limit_is_bad_user_input(api):
    for variables, argument in [
        ({"facility": "FAC-6"}, "facilityId"),
        ({"facility": "FAC-0003", "limit": 1000}, "limit"),
    ]:
        body = await api.graphql(DIFFERENCES, variables)

        (error,) = body["errors"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["argument"] == argument
