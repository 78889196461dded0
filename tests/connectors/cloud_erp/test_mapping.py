"""Canonical ⇄ cloud ERP JSON, as tables."""

from decimal import Decimal

import pytest

from apgraph.connectors.cloud_erp import mapping
from apgraph.services.ports.connectors import ConnectorMappingError

GOOD = {
    "InvoiceId": 9000042,
    "InvoiceNumber": "A-17",
    "SupplierNumber": "300000001",
    "ExternalReference": "INV-00000042",
    "InvoiceCurrencyCode": "USD",
    "InvoiceAmount": "1084.10",
    "TaxAmount": "84.10",
    "DueDate": "2026-12-01",
    "AccountingDate": "2026-11-02",
}

SUPPLIER = {"SupplierNumber": "1", "Supplier": "A", "TaxpayerId": "9"}


def test_an_invoice_maps_to_a_canonical_reference():
    document = mapping.document_from_vendor(GOOD)

    assert document.reference == "CLD-9000042"
    assert document.total == Decimal("1084.10")


def test_a_json_number_decoded_as_decimal_is_an_exact_amount():
    assert mapping.document_from_vendor({**GOOD, "TaxAmount": Decimal("84.10")}).tax == Decimal(
        "84.10"
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("InvoiceAmount", None),
        ("InvoiceAmount", 1084.1),  # a float: money must never pass through one
        ("InvoiceAmount", "lots"),
        ("DueDate", "tomorrow"),
        ("ExternalReference", "INV-42"),
        ("InvoiceId", "nine"),
        ("InvoiceNumber", ""),
        ("InvoiceNumber", True),
    ],
)
def test_an_invoice_that_does_not_map_names_the_field(field, value):
    body = dict(GOOD)
    if value is None:
        del body[field]
    else:
        body[field] = value

    with pytest.raises(ConnectorMappingError) as failed:
        mapping.document_from_vendor(body)

    assert failed.value.field == field


def test_a_posting_sends_amounts_as_strings(network):
    invoice = network.invoices[0]

    payload = mapping.invoice_to_vendor(invoice, supplier_number="300000003")

    assert payload["InvoiceAmount"] == format(invoice.total, "f")
    assert isinstance(payload["TaxAmount"], str)
    assert payload["ExternalReference"] == invoice.id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [], "hasMore": "no"}, "hasMore"),
        ({"hasMore": False}, "items"),
        ({"items": [SUPPLIER], "hasMore": False}, "Status"),
        ({"items": [{**SUPPLIER, "Status": "GONE"}], "hasMore": False}, "Status"),
    ],
)
def test_a_supplier_page_that_does_not_map_names_the_field(body, field):
    with pytest.raises(ConnectorMappingError) as failed:
        mapping.suppliers_from_vendor(body)
    assert failed.value.field == field


def test_a_lookup_that_found_nothing_is_none():
    assert mapping.found_invoice({"items": []}) is None
    assert mapping.found_invoice({"items": [GOOD]}) == GOOD
