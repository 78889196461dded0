"""Canonical ⇄ legacy ERP XML, as tables."""

from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement

import pytest

from apgraph.connectors.legacy_erp import mapping
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import ConnectorMappingError

NS = mapping.NS
GOOD = {
    "DocNo": "5100042",
    "ExtRef": "INV-00000042",
    "VendorNo": "V10001",
    "VendorInvoiceNo": "A-17",
    "Currency": "USD",
    "GrossAmount": "1084.10",
    "TaxAmount": "84.10",
    "DueDate": "2026-12-01",
    "PostingDate": "2026-11-02",
}


def response(document: dict[str, str] | None) -> Element:
    root = Element(f"{{{NS}}}PostVendorInvoiceResponse")
    if document is not None:
        element = SubElement(root, f"{{{NS}}}Document")
        for name, text in document.items():
            SubElement(element, f"{{{NS}}}{name}").text = text
    return root


def test_a_document_maps_to_a_canonical_reference():
    document = mapping.document_from_vendor(response(GOOD))

    assert document.system is ExternalSystem.LEGACY_ERP
    assert document.reference == "LEG-5100042"
    assert (document.total, document.tax) == (Decimal("1084.10"), Decimal("84.10"))
    assert (document.due_date, document.posted_on) == (date(2026, 12, 1), date(2026, 11, 2))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("GrossAmount", None),
        ("GrossAmount", "12,50"),
        ("GrossAmount", "NaN"),
        ("TaxAmount", ""),
        ("DueDate", "01/12/2026"),
        ("DocNo", "LEG-1"),
        ("ExtRef", "42"),
        ("Currency", None),
    ],
)
def test_a_document_that_does_not_map_names_the_field(field, value):
    document = dict(GOOD)
    if value is None:
        del document[field]
    else:
        document[field] = value

    with pytest.raises(ConnectorMappingError) as failed:
        mapping.document_from_vendor(response(document))

    assert failed.value.field == field


def test_a_response_without_a_document_is_no_document():
    assert not mapping.has_document(response(None))
    with pytest.raises(ConnectorMappingError) as failed:
        mapping.document_from_vendor(response(None))
    assert failed.value.field == "Document"


def test_a_posting_carries_amounts_as_decimal_text_and_our_references(network):
    invoice = next(i for i in network.invoices if i.purchase_order_id is not None)

    request = mapping.post_request(invoice, vendor_no="V10003", idempotency_key="k-1")

    def text(name: str) -> str | None:
        return request.findtext(f".//{{{NS}}}{name}")

    assert text("IdempotencyToken") == "k-1"
    assert text("GrossAmount") == format(invoice.total, "f")
    assert text("ExtRef") == invoice.id
    assert text("PoNumber") == invoice.purchase_order_id
    assert text("CostObject") == invoice.cost_center_id


@pytest.mark.parametrize(("block", "blocked"), [("X", True), ("", False)])
def test_the_posting_block_flag_is_blocked(block, blocked):
    root = Element(f"{{{NS}}}ListVendorsResponse")
    vendor = SubElement(root, f"{{{NS}}}Vendor")
    for name, text in {"VendorNo": "V1", "TaxNo": "1", "Name1": "A", "PostingBlock": block}.items():
        SubElement(vendor, f"{{{NS}}}{name}").text = text

    assert [v.blocked for v in mapping.vendors_from_vendor(root)] == [blocked]
