"""Forecast records → the analytics webhook's JSON."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from apgraph.connectors.analytics import mapping
from apgraph.domain.erp import ForecastRecord
from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId

RECORD = ForecastRecord(
    invoice_id=InvoiceId("INV-00000001"),
    supplier_id=SupplierId("SUP-000001"),
    facility_id=FacilityId("FAC-0001"),
    currency="USD",
    amount=Decimal("0.10"),
    expected_on=date(2026, 12, 1),
)


def test_amounts_travel_as_decimal_strings():
    body = mapping.batch_to_vendor([RECORD], batch_key="b")

    assert body["records"][0]["amount"] == "0.10"
    assert body["records"][0]["expectedDate"] == "2026-12-01"


def test_the_batch_key_follows_the_content():
    other = replace(RECORD, amount=Decimal("0.11"))

    assert mapping.batch_key([RECORD]) == mapping.batch_key([replace(RECORD)])
    assert mapping.batch_key([RECORD]) != mapping.batch_key([other])
