"""Sourcing agreement lines → contract prices, as a table."""

from datetime import date
from decimal import Decimal

import pytest

from apgraph.connectors.sourcing import mapping
from apgraph.services.ports.connectors import ConnectorMappingError

LINE = {
    "agreementLine": 12,
    "supplierRef": "SUP-000002",
    "itemRef": "ITM-RX-85642",
    "price": {"value": "2.8074", "currency": "USD"},
    "validity": {"start": "2025-11-12", "end": "2026-11-11"},
}


def test_a_line_maps_to_a_contract_price_with_an_exact_unit_price():
    (price,) = mapping.prices_from_vendor({"data": [LINE]})

    assert price.id == "CT-000012"
    assert price.unit_price == Decimal("2.8074")
    assert (price.valid_from, price.valid_to) == (date(2025, 11, 12), date(2026, 11, 11))


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({**LINE, "price": {"currency": "USD"}}, "value"),
        ({**LINE, "price": "2.80"}, "value"),
        ({**LINE, "validity": {"start": "2026-01-02", "end": "2026-01-01"}}, "end"),
        ({**LINE, "agreementLine": None}, "agreementLine"),
    ],
)
def test_a_line_that_does_not_map_names_the_field(line, field):
    with pytest.raises(ConnectorMappingError) as failed:
        mapping.prices_from_vendor({"data": [line]})
    assert failed.value.field == field
