"""The cloud ERP: JSON REST behind OAuth2 client credentials (`POST /oauth2/token`).

Tokens are opaque and live `token_lifetime` seconds; `POST /_control/revoke-tokens` revokes
them all, so the next call gets a 401 as after a key rotation. Amounts are JSON strings.
"""

import base64
import secrets
import threading
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from apgraph.demo.generator import DemoNetwork
from apgraph.domain.bundle import MasterDataBundle
from apgraph.domain.suppliers import Supplier
from apgraph.domain.systems import ExternalSystem
from apgraph.simulators import erp_book
from apgraph.simulators.erp_book import (
    Document,
    Draft,
    ErpBook,
    OrderDraft,
    OrderLine,
    Payment,
    PaymentOrder,
    Refusal,
)
from apgraph.simulators.faults import CONTROL_PREFIX, FaultInjection, FaultPlan, control_routes

SUPPLIER_PAGE = 500
_REFUSAL_STATUS = {
    "VENDOR_UNKNOWN": 422,
    "VENDOR_BLOCKED": 422,
    "DUPLICATE_INVOICE": 409,
    "DOCUMENT_UNKNOWN": 422,
    "ALREADY_PAID": 409,
}


def supplier_number(supplier: Supplier) -> str:
    """Nine digits: SUP-000123 is supplier 300000123 in this ERP."""
    return str(300_000_000 + int(supplier.id.removeprefix("SUP-")))


@dataclass(slots=True)
class Tokens:
    client_id: str
    client_secret: str
    lifetime: int
    issued: set[str] = field(default_factory=set)
    fetched: int = 0  # token requests granted: how tests see the client's caching
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.issued.add(token)
            self.fetched += 1
        return token

    def revoke_all(self) -> None:
        with self._lock:
            self.issued.clear()


@dataclass(slots=True)
class CloudErpSimulator:
    book: ErpBook
    plan: FaultPlan
    tokens: Tokens
    app: ASGIApp

    def load(self, bundle: MasterDataBundle) -> None:
        """The imported suppliers become vendors of this ERP (see ErpBook.add_vendors)."""
        self.book.add_vendors(
            bundle.suppliers,
            system=ExternalSystem.CLOUD_ERP,
            vendor_key=supplier_number,
            tax_id=str,
        )


def create(
    network: DemoNetwork, *, client_id: str, client_secret: str, token_lifetime: int = 3600
) -> CloudErpSimulator:
    book = ErpBook.seeded(network, prefix="CLD", vendor_key=supplier_number, tax_id=str)
    plan = FaultPlan()
    tokens = Tokens(client_id=client_id, client_secret=client_secret, lifetime=token_lifetime)

    async def token(request: Request) -> Response:
        form = await request.form()
        client, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        if request.headers.get("authorization", "").startswith("Basic "):
            raw = base64.b64decode(request.headers["authorization"][6:]).decode()
            client, _, secret = raw.partition(":")
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if client != tokens.client_id or secret != tokens.client_secret:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        return JSONResponse(
            {"access_token": tokens.issue(), "token_type": "Bearer", "expires_in": tokens.lifetime}
        )

    def authorized(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        return header.startswith("Bearer ") and header[7:] in tokens.issued

    def unauthorized() -> Response:
        return JSONResponse(
            {"title": "Unauthorized", "status": 401},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )

    async def invoices(request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        if request.method == "GET":
            found = book.by_token(request.query_params.get("idempotencyKey", ""))
            return JSONResponse({"items": [_invoice_json(found)] if found else []})
        key = request.headers.get("idempotency-key", "")
        if not key:
            return _problem(400, "the Idempotency-Key header is required")
        try:
            draft = _draft(await request.json())
        except (KeyError, ValueError, TypeError, InvalidOperation) as error:
            return _problem(400, f"invalid invoice: {error!r}")
        try:
            document, created = book.post(draft, token=key)
        except Refusal as refusal:
            return _problem(_REFUSAL_STATUS[refusal.reason], str(refusal), reason=refusal.reason)
        return JSONResponse(_invoice_json(document), status_code=201 if created else 200)

    async def invoice_payments(request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        number = request.path_params["invoice_id"]
        if number not in book.documents:
            return _problem(404, f"no invoice {number}")
        return JSONResponse({"items": [_payment_json(p, book) for p in book.payments_of(number)]})

    async def payments(request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        try:
            since = date.fromisoformat(request.query_params["fromDate"])
        except (KeyError, ValueError):
            return _problem(400, "fromDate (YYYY-MM-DD) is required")
        return JSONResponse({"items": [_payment_json(p, book) for p in book.payments_since(since)]})

    async def payment_orders(request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        if request.method == "GET":
            found = book.order_by_token(request.query_params.get("idempotencyKey", ""))
            return JSONResponse({"items": [_order_json(found)] if found else []})
        key = request.headers.get("idempotency-key", "")
        if not key:
            return _problem(400, "the Idempotency-Key header is required")
        try:
            draft = _order_draft(await request.json())
        except (KeyError, ValueError, TypeError, InvalidOperation) as error:
            return _problem(400, f"invalid payment order: {error!r}")
        try:
            order, created = book.order_payment(draft, token=key)
        except Refusal as refusal:
            return _problem(_REFUSAL_STATUS[refusal.reason], str(refusal), reason=refusal.reason)
        return JSONResponse(_order_json(order), status_code=201 if created else 200)

    async def payment_order(request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        order = book.order_status(request.path_params["order_id"])
        if order is None:
            return _problem(404, f"no payment order {request.path_params['order_id']}")
        return JSONResponse(_order_json(order))

    async def suppliers(request: Request) -> Response:
        if not authorized(request):
            return unauthorized()
        offset = int(request.query_params.get("offset", "0"))
        limit = min(int(request.query_params.get("limit", str(SUPPLIER_PAGE))), SUPPLIER_PAGE)
        vendors = list(book.vendors.values())
        page = vendors[offset : offset + limit]
        return JSONResponse(
            {
                "items": [
                    {
                        "SupplierNumber": v.key,
                        "Supplier": v.name,
                        "TaxpayerId": v.tax_id,
                        "Status": "INACTIVE" if v.blocked else "ACTIVE",
                    }
                    for v in page
                ],
                "hasMore": offset + limit < len(vendors),
            }
        )

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "UP"})

    async def revoke(_: Request) -> Response:
        tokens.revoke_all()
        return JSONResponse({"revoked": True})

    app = Starlette(
        routes=[
            Route("/oauth2/token", token, methods=["POST"]),
            Route("/api/v2/health", health),
            Route("/api/v2/invoices", invoices, methods=["GET", "POST"]),
            Route("/api/v2/invoices/{invoice_id:int}/payments", invoice_payments),
            Route("/api/v2/payments", payments),
            Route("/api/v2/payment-orders", payment_orders, methods=["GET", "POST"]),
            Route("/api/v2/payment-orders/{order_id:int}", payment_order),
            Route("/api/v2/suppliers", suppliers),
            Route(f"{CONTROL_PREFIX}/revoke-tokens", revoke, methods=["POST"]),
            *control_routes(plan),
            *erp_book.control_routes(book),
        ]
    )
    return CloudErpSimulator(book=book, plan=plan, tokens=tokens, app=FaultInjection(app, plan))


def _draft(body: dict[str, Any]) -> Draft:
    return Draft(
        vendor_key=str(body["SupplierNumber"]),
        external_ref=str(body["ExternalReference"]),
        vendor_invoice_no=str(body["InvoiceNumber"]),
        currency=str(body["InvoiceCurrencyCode"]),
        gross=Decimal(str(body["InvoiceAmount"])),
        tax=Decimal(str(body["TaxAmount"])),
        document_date=date.fromisoformat(body["InvoiceDate"]),
        purchase_order=body.get("PurchaseOrderNumber"),
        cost_object=str(body["CostCenter"]),
    )


def _order_draft(body: dict[str, Any]) -> OrderDraft:
    return OrderDraft(
        vendor_key=str(body["SupplierNumber"]),
        external_ref=str(body["ExternalReference"]),
        currency=str(body["CurrencyCode"]),
        amount=Decimal(str(body["PaymentAmount"])),
        value_date=date.fromisoformat(body["PaymentDate"]),
        method=str(body["PaymentMethodCode"]),
        lines=tuple(
            OrderLine(
                document_number=int(line["InvoiceId"]),
                amount=Decimal(str(line["AmountPaid"])),
                discount=Decimal(str(line["DiscountTaken"])),
            )
            for line in body["Invoices"]
        ),
    )


def _order_json(order: PaymentOrder) -> dict[str, Any]:
    return {
        "PaymentOrderId": order.number,
        "ExternalReference": order.draft.external_ref,
        "PaymentAmount": format(order.draft.amount, "f"),
        "CurrencyCode": order.draft.currency,
        "Status": order.status,
        "RejectionReason": order.reason,
        "PaidDate": order.paid_on.isoformat() if order.paid_on else None,
    }


def _invoice_json(document: Document) -> dict[str, Any]:
    return {
        "InvoiceId": document.number,
        "InvoiceNumber": document.vendor_invoice_no,
        "SupplierNumber": document.vendor_key,
        "ExternalReference": document.external_ref,
        "InvoiceCurrencyCode": document.currency,
        "InvoiceAmount": format(document.gross, "f"),
        "TaxAmount": format(document.tax, "f"),
        "DueDate": document.due_date.isoformat(),
        "AccountingDate": document.posted_on.isoformat(),
        "ValidationStatus": "Validated",
    }


def _payment_json(payment: Payment, book: ErpBook) -> dict[str, Any]:
    return {
        "PaymentNumber": payment.reference,
        "InvoiceId": payment.document_number,
        "ExternalReference": book.documents[payment.document_number].external_ref,
        "PaymentAmount": format(payment.amount, "f"),
        "CurrencyCode": payment.currency,
        "PaymentDate": payment.value_date.isoformat(),
    }


def _problem(status: int, detail: str, *, reason: str | None = None) -> Response:
    body: dict[str, Any] = {"status": status, "detail": detail}
    if reason is not None:
        body["o:errorCode"] = reason
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
