"""Canonical values ⇄ the legacy ERP's XML: the only module that knows its element names."""

from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar
from xml.etree.ElementTree import Element, SubElement

from apgraph.connectors import vendor_values as values
from apgraph.domain.erp import (
    ConfirmationState,
    ErpDocumentRef,
    ErpVendor,
    PaymentConfirmation,
    PaymentOrderLine,
    PaymentRelease,
    payment_reference,
)
from apgraph.domain.ids import InvoiceId, invoice
from apgraph.domain.invoices import Invoice
from apgraph.domain.payments import Payment, PaymentMethod
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import ConnectorMappingError

NS = "urn:legacy-erp:accounts-payable:v3"
SYSTEM = ExternalSystem.LEGACY_ERP

T = TypeVar("T")


def post_request(invoice: Invoice, *, vendor_no: str, idempotency_key: str) -> Element:
    request = _element("PostVendorInvoice")
    _add(request, "IdempotencyToken", idempotency_key)
    body = _add(request, "Invoice")
    _add(body, "VendorNo", vendor_no)
    _add(body, "ExtRef", invoice.id)
    _add(body, "VendorInvoiceNo", invoice.supplier_invoice_number)
    _add(body, "DocDate", invoice.invoice_date.isoformat())
    _add(body, "Currency", invoice.currency)
    _add(body, "GrossAmount", format(invoice.total, "f"))  # xs:decimal text, never a float
    _add(body, "TaxAmount", format(invoice.tax, "f"))
    if invoice.purchase_order_id is not None:
        _add(body, "PoNumber", invoice.purchase_order_id)
    _add(body, "CostObject", invoice.cost_center_id)
    return request


def find_request(idempotency_key: str) -> Element:
    request = _element("FindPostingByToken")
    _add(request, "IdempotencyToken", idempotency_key)
    return request


def has_document(response: Element) -> bool:
    return response.find(_tag("Document")) is not None


def document_from_vendor(response: Element) -> ErpDocumentRef:
    """The Document of a PostVendorInvoice or FindPostingByToken response."""
    document = _required(response, "Document")
    return ErpDocumentRef(
        system=ExternalSystem.LEGACY_ERP,
        document_number=str(values.integer(SYSTEM, "DocNo", _text(document, "DocNo"))),
        invoice_id=_invoice_id(document, "ExtRef"),
        supplier_invoice_number=values.text(
            SYSTEM, "VendorInvoiceNo", _text(document, "VendorInvoiceNo")
        ),
        currency=values.text(SYSTEM, "Currency", _text(document, "Currency")),
        total=values.amount(SYSTEM, "GrossAmount", _text(document, "GrossAmount")),
        tax=values.amount(SYSTEM, "TaxAmount", _text(document, "TaxAmount")),
        due_date=values.day(SYSTEM, "DueDate", _text(document, "DueDate")),
        posted_on=values.day(SYSTEM, "PostingDate", _text(document, "PostingDate")),
    )


def payment_status_request(document_number: str) -> Element:
    request = _element("GetPaymentStatus")
    _add(request, "DocNo", document_number)
    return request


def payments_request(since: date) -> Element:
    request = _element("ListPayments")
    _add(request, "FromDate", since.isoformat())
    return request


def payments_from_vendor(response: Element) -> list[PaymentRelease]:
    return _all(response, "Payment", _payment)


def vendors_request() -> Element:
    return _element("ListVendors")


def vendors_from_vendor(response: Element) -> list[ErpVendor]:
    return _all(response, "Vendor", _vendor)


def _payment(element: Element) -> PaymentRelease:
    return PaymentRelease(
        system=ExternalSystem.LEGACY_ERP,
        document_number=str(values.integer(SYSTEM, "DocNo", _text(element, "DocNo"))),
        invoice_id=_invoice_id(element, "ExtRef"),
        payment_reference=values.text(SYSTEM, "PaymentRef", _text(element, "PaymentRef")),
        currency=values.text(SYSTEM, "Currency", _text(element, "Currency")),
        amount=values.amount(SYSTEM, "Amount", _text(element, "Amount")),
        released_on=values.day(SYSTEM, "ValueDate", _text(element, "ValueDate")),
    )


def _vendor(element: Element) -> ErpVendor:
    block = element.find(_tag("PostingBlock"))
    if block is None:
        raise ConnectorMappingError(SYSTEM, "PostingBlock", "missing")
    return ErpVendor(
        system=ExternalSystem.LEGACY_ERP,
        vendor_key=values.text(SYSTEM, "VendorNo", _text(element, "VendorNo")),
        tax_id=values.text(SYSTEM, "TaxNo", _text(element, "TaxNo")),
        legal_name=values.text(SYSTEM, "Name1", _text(element, "Name1")),
        blocked=(block.text or "").strip() == "X",  # the ERP's posting-block flag
    )


def _invoice_id(element: Element, name: str) -> InvoiceId:
    raw = values.text(SYSTEM, name, _text(element, name))
    try:
        return invoice(raw)
    except ValueError as error:
        raise ConnectorMappingError(SYSTEM, name, str(error)) from None


def _all(response: Element, name: str, convert: Callable[[Element], T]) -> list[T]:
    return [convert(element) for element in response.findall(_tag(name))]


def _required(parent: Element, name: str) -> Element:
    found = parent.find(_tag(name))
    if found is None:
        raise ConnectorMappingError(SYSTEM, name, "missing")
    return found


def _text(parent: Element, name: str) -> str:
    return _required(parent, name).text or ""


def _tag(name: str) -> str:
    return f"{{{NS}}}{name}"


def _element(name: str) -> Element:
    return Element(_tag(name))


def _add(parent: Element, name: str, text: str | None = None) -> Element:
    child = SubElement(parent, _tag(name))
    if text is not None:
        child.text = text
    return child


def release_payment_request(
    payment: Payment,
    lines: Sequence[PaymentOrderLine],
    *,
    vendor_no: str,
    idempotency_key: str,
) -> Element:
    request = _element("ReleasePayment")
    _add(request, "IdempotencyToken", idempotency_key)
    order = _add(request, "PaymentOrder")
    _add(order, "VendorNo", vendor_no)
    _add(order, "ExtRef", payment.id)
    _add(order, "Currency", payment.currency)
    _add(order, "Amount", format(payment.amount, "f"))
    _add(order, "ValueDate", payment.scheduled_date.isoformat())
    _add(order, "PayMethod", _PAY_METHODS[payment.method])
    for line in lines:
        item = _add(order, "Item")
        _add(item, "DocNo", line.document_number)
        _add(item, "Amount", format(line.amount, "f"))
        _add(item, "CashDiscount", format(line.discount, "f"))
    return request


def find_payment_order_request(idempotency_key: str) -> Element:
    request = _element("FindPaymentOrderByToken")
    _add(request, "IdempotencyToken", idempotency_key)
    return request


def has_payment_order(response: Element) -> bool:
    return response.find(_tag("PaymentOrder")) is not None


def payment_order_status_request(order_no: str) -> Element:
    request = _element("GetPaymentOrderStatus")
    _add(request, "OrderNo", order_no)
    return request


def confirmation_from_vendor(response: Element) -> PaymentConfirmation:
    """The PaymentOrder of a ReleasePayment, FindPaymentOrderByToken or status response."""
    order = _required(response, "PaymentOrder")
    number = values.integer(SYSTEM, "OrderNo", _text(order, "OrderNo"))
    state = _STATES.get(_text(order, "State").strip())
    if state is None:
        raise ConnectorMappingError(SYSTEM, "State", f"unknown state {_text(order, 'State')!r}")
    cleared = _text(order, "ClearingDate").strip()
    return PaymentConfirmation(
        reference=payment_reference(ExternalSystem.LEGACY_ERP, str(number)),
        state=state,
        reason=_text(order, "ReturnReason").strip() or None,
        paid_on=values.day(SYSTEM, "ClearingDate", cleared) if cleared else None,
    )


_PAY_METHODS = {
    PaymentMethod.ACH: "T",  # this ERP's payment method keys: bank transfer, wire, check, card
    PaymentMethod.WIRE: "W",
    PaymentMethod.CHECK: "C",
    PaymentMethod.VIRTUAL_CARD: "K",
}
_STATES = {
    "P": ConfirmationState.PENDING,
    "C": ConfirmationState.PAID,  # cleared
    "R": ConfirmationState.REJECTED,  # returned
}
