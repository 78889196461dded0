"""Canonical values ⇄ the cloud ERP's JSON: the only module that knows its field names."""

from collections.abc import Sequence
from typing import Any

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
from apgraph.domain.payments import Payment
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import ConnectorMappingError

SYSTEM = ExternalSystem.CLOUD_ERP
INVOICES = "api/v2/invoices"
PAYMENTS = "api/v2/payments"
SUPPLIERS = "api/v2/suppliers"
SUPPLIER_PAGE = 500


def invoice_to_vendor(invoice: Invoice, *, supplier_number: str) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "SupplierNumber": supplier_number,
        "InvoiceNumber": invoice.supplier_invoice_number,
        "InvoiceDate": invoice.invoice_date.isoformat(),
        "InvoiceCurrencyCode": invoice.currency,
        "InvoiceAmount": format(invoice.total, "f"),  # a JSON number would pass through float
        "TaxAmount": format(invoice.tax, "f"),
        "ExternalReference": invoice.id,
        "CostCenter": invoice.cost_center_id,
    }
    if invoice.purchase_order_id is not None:
        payload["PurchaseOrderNumber"] = invoice.purchase_order_id
    return payload


def lookup_query(idempotency_key: str) -> dict[str, str | int]:
    return {"idempotencyKey": idempotency_key}


def found_invoice(body: Any) -> Any:
    """The one invoice a lookup by key found, or None."""
    found = values.items(SYSTEM, body, "items")
    return found[0] if found else None


def document_from_vendor(body: Any) -> ErpDocumentRef:
    def get(name: str) -> Any:
        return values.member(SYSTEM, body, name)

    return ErpDocumentRef(
        system=ExternalSystem.CLOUD_ERP,
        document_number=str(values.integer(SYSTEM, "InvoiceId", get("InvoiceId"))),
        invoice_id=_invoice_id(get("ExternalReference")),
        supplier_invoice_number=values.text(SYSTEM, "InvoiceNumber", get("InvoiceNumber")),
        currency=values.text(SYSTEM, "InvoiceCurrencyCode", get("InvoiceCurrencyCode")),
        total=values.amount(SYSTEM, "InvoiceAmount", get("InvoiceAmount")),
        tax=values.amount(SYSTEM, "TaxAmount", get("TaxAmount")),
        due_date=values.day(SYSTEM, "DueDate", get("DueDate")),
        posted_on=values.day(SYSTEM, "AccountingDate", get("AccountingDate")),
    )


def payments_path(document_number: str) -> str:
    return f"{INVOICES}/{document_number}/payments"


def payments_query(since_iso: str) -> dict[str, str | int]:
    return {"fromDate": since_iso}


def payments_from_vendor(body: Any) -> list[PaymentRelease]:
    return [_payment(item) for item in values.items(SYSTEM, body, "items")]


def suppliers_query(offset: int) -> dict[str, str | int]:
    return {"offset": offset, "limit": SUPPLIER_PAGE}


def suppliers_from_vendor(body: Any) -> tuple[list[ErpVendor], bool]:
    """One page of the supplier list, and whether another follows."""
    has_more = values.member(SYSTEM, body, "hasMore")
    if not isinstance(has_more, bool):
        raise ConnectorMappingError(SYSTEM, "hasMore", f"expected true or false: {has_more!r}")
    return [_supplier(item) for item in values.items(SYSTEM, body, "items")], has_more


def _payment(item: Any) -> PaymentRelease:
    def get(name: str) -> Any:
        return values.member(SYSTEM, item, name)

    return PaymentRelease(
        system=ExternalSystem.CLOUD_ERP,
        document_number=str(values.integer(SYSTEM, "InvoiceId", get("InvoiceId"))),
        invoice_id=_invoice_id(get("ExternalReference")),
        payment_reference=values.text(SYSTEM, "PaymentNumber", get("PaymentNumber")),
        currency=values.text(SYSTEM, "CurrencyCode", get("CurrencyCode")),
        amount=values.amount(SYSTEM, "PaymentAmount", get("PaymentAmount")),
        released_on=values.day(SYSTEM, "PaymentDate", get("PaymentDate")),
    )


def _supplier(item: Any) -> ErpVendor:
    def get(name: str) -> Any:
        return values.member(SYSTEM, item, name)

    status = values.text(SYSTEM, "Status", get("Status"))
    if status not in ("ACTIVE", "INACTIVE"):
        raise ConnectorMappingError(SYSTEM, "Status", f"unknown supplier status {status!r}")
    return ErpVendor(
        system=ExternalSystem.CLOUD_ERP,
        vendor_key=values.text(SYSTEM, "SupplierNumber", get("SupplierNumber")),
        tax_id=values.text(SYSTEM, "TaxpayerId", get("TaxpayerId")),
        legal_name=values.text(SYSTEM, "Supplier", get("Supplier")),
        blocked=status == "INACTIVE",
    )


def _invoice_id(raw: Any) -> InvoiceId:
    text = values.text(SYSTEM, "ExternalReference", raw)
    try:
        return invoice(text)
    except ValueError as error:
        raise ConnectorMappingError(SYSTEM, "ExternalReference", str(error)) from None


PAYMENT_ORDERS = "api/v2/payment-orders"


def payment_order_to_vendor(
    payment: Payment, lines: Sequence[PaymentOrderLine], *, supplier_number: str
) -> dict[str, Any]:
    return {
        "SupplierNumber": supplier_number,
        "ExternalReference": payment.id,
        "CurrencyCode": payment.currency,
        "PaymentAmount": format(payment.amount, "f"),  # a JSON number would pass through float
        "PaymentDate": payment.scheduled_date.isoformat(),
        "PaymentMethodCode": payment.method.value,
        "Invoices": [
            {
                "InvoiceId": int(line.document_number),
                "AmountPaid": format(line.amount, "f"),
                "DiscountTaken": format(line.discount, "f"),
            }
            for line in lines
        ],
    }


def payment_order_path(reference: str) -> str:
    """The order behind a payment's `erp_reference` (CLD-70000001)."""
    return f"{PAYMENT_ORDERS}/{reference.split('-', 1)[1]}"


def confirmation_from_vendor(body: Any) -> PaymentConfirmation:
    def get(name: str) -> Any:
        return values.member(SYSTEM, body, name)

    number = values.integer(SYSTEM, "PaymentOrderId", get("PaymentOrderId"))
    raw_state = values.text(SYSTEM, "Status", get("Status"))
    try:
        state = ConfirmationState(raw_state)
    except ValueError:
        raise ConnectorMappingError(SYSTEM, "Status", f"unknown status {raw_state!r}") from None
    reason = body.get("RejectionReason")  # null until the bank returns the payment
    paid = body.get("PaidDate")  # null until paid
    return PaymentConfirmation(
        reference=payment_reference(ExternalSystem.CLOUD_ERP, str(number)),
        state=state,
        reason=values.text(SYSTEM, "RejectionReason", reason) if reason else None,
        paid_on=values.day(SYSTEM, "PaidDate", paid) if paid else None,
    )


def found_order(body: Any) -> Any:
    """The one payment order a lookup by key found, or None."""
    found = values.items(SYSTEM, body, "items")
    return found[0] if found else None
