"""The books an ERP simulator keeps: vendors, posted documents, payments.

Both ERP simulators keep one each and differ only in how they speak (SOAP/XML or JSON REST).
An ERP honours idempotency keys the way real ones do: a repeated key returns the first
document and posts nothing; a new key for an invoice number the vendor already billed is a
duplicate and refused.
"""

import json
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from apgraph.demo.generator import DemoNetwork
from apgraph.domain.bundle import SupplierEntry
from apgraph.domain.ids import SupplierId
from apgraph.domain.payments import PaymentStatus
from apgraph.domain.suppliers import PaymentTerms, Supplier, SupplierStatus
from apgraph.domain.systems import ExternalSystem
from apgraph.simulators.faults import CONTROL_PREFIX

TERM_DAYS = {
    PaymentTerms.NET15: 15,
    PaymentTerms.NET30: 30,
    PaymentTerms.NET45: 45,
    PaymentTerms.NET60: 60,
    PaymentTerms.DUE_ON_RECEIPT: 0,
    PaymentTerms.NET30_2_10: 30,
}


class Refusal(Exception):
    """The ERP says no; `reason` is its own code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(slots=True)
class Vendor:
    key: str
    supplier_id: SupplierId  # the simulator's own note of whom it stands for
    tax_id: str  # as this ERP stores it
    name: str
    term_days: int
    blocked: bool


@dataclass(frozen=True, slots=True)
class Draft:
    """A posting request, whatever shape it arrived in."""

    vendor_key: str
    external_ref: str
    vendor_invoice_no: str
    currency: str
    gross: Decimal
    tax: Decimal
    document_date: date
    purchase_order: str | None
    cost_object: str


@dataclass(frozen=True, slots=True)
class Document:
    number: int
    token: str
    vendor_key: str
    external_ref: str
    vendor_invoice_no: str
    currency: str
    gross: Decimal
    tax: Decimal
    document_date: date
    due_date: date
    posted_on: date


@dataclass(frozen=True, slots=True)
class Payment:
    reference: str
    document_number: int
    currency: str
    amount: Decimal
    value_date: date


@dataclass(frozen=True, slots=True)
class OrderLine:
    document_number: int
    amount: Decimal
    discount: Decimal


@dataclass(frozen=True, slots=True)
class OrderDraft:
    """A payment order, whatever shape it arrived in."""

    vendor_key: str
    external_ref: str  # apgraph's payment ID
    currency: str
    amount: Decimal
    value_date: date
    method: str
    lines: tuple[OrderLine, ...]


@dataclass(slots=True)
class PaymentOrder:
    """A payment apgraph asked this ERP to make: PENDING until its bank run settles it."""

    number: int
    token: str
    draft: OrderDraft
    status: str = "PENDING"  # PENDING, PAID, REJECTED
    reason: str | None = None  # why REJECTED, in this ERP's words (e.g. ACCOUNT_CLOSED)
    paid_on: date | None = None


@dataclass(slots=True)
class ErpBook:
    vendors: dict[str, Vendor]
    documents: dict[int, Document]
    payments: list[Payment]
    next_number: int
    orders: dict[int, PaymentOrder] = field(default_factory=dict)
    # how the next pending orders settle when asked about: "PAID", "PENDING" (not yet), or
    # "REJECTED:<reason>" (the bank returned it, e.g. REJECTED:ACCOUNT_CLOSED)
    settlement: str = "PAID"
    today: Callable[[], date] = field(default=lambda: datetime.now(UTC).date())
    posted_now: list[Document] = field(default_factory=list)  # posted since start, in order
    journal: Path | None = None  # set by keep_journal: postings survive a restart
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # `documents` by token, and the (vendor, vendor invoice number) pairs billed: a posting
    # asks both, and a scan of every document per posting grew with the book (issue 19)
    _by_token: dict[str, Document] = field(init=False, default_factory=dict)
    _billed: set[tuple[str, str]] = field(init=False, default_factory=set)

    def __post_init__(self) -> None:
        for document in self.documents.values():
            self._index(document)

    @classmethod
    def seeded(
        cls,
        network: DemoNetwork,
        *,
        prefix: str,
        vendor_key: Callable[[Supplier], str],
        tax_id: Callable[[str], str],
    ) -> "ErpBook":
        """The demo network as this ERP knows it: every supplier past onboarding, every
        invoice the seed posted to it (document numbers `prefix-N`), every payment of those."""
        vendors = {
            vendor_key(s): _vendor(s, vendor_key(s), tax_id)
            for s in network.suppliers
            if s.status is not SupplierStatus.ONBOARDING
        }
        key_of = {vendor.supplier_id: vendor.key for vendor in vendors.values()}
        documents: dict[int, Document] = {}
        for invoice in network.invoices:
            ref = invoice.erp_document_ref
            if ref is None or not ref.startswith(f"{prefix}-"):
                continue
            number = int(ref.removeprefix(f"{prefix}-"))
            documents[number] = Document(
                number=number,
                token=f"seed-{invoice.id}",
                vendor_key=key_of[invoice.supplier_id],
                external_ref=invoice.id,
                vendor_invoice_no=invoice.supplier_invoice_number,
                currency=invoice.currency,
                gross=invoice.total,
                tax=invoice.tax,
                document_date=invoice.invoice_date,
                due_date=invoice.due_date,
                posted_on=invoice.received_at.date(),
            )
        by_invoice = {document.external_ref: document for document in documents.values()}
        paid = {p.id: p for p in network.payments if p.status is PaymentStatus.PAID}
        payments = [
            Payment(
                reference=f"PMT{allocation.payment_id.removeprefix('PAY-')}",
                document_number=by_invoice[allocation.invoice_id].number,
                currency=paid[allocation.payment_id].currency,
                amount=allocation.amount,
                value_date=paid[allocation.payment_id].scheduled_date,
            )
            for allocation in network.payment_allocations
            if allocation.payment_id in paid and allocation.invoice_id in by_invoice
        ]
        first = max(documents, default=0) + 1
        return cls(vendors=vendors, documents=documents, payments=payments, next_number=first)

    def add_vendors(
        self,
        suppliers: Iterable[SupplierEntry],
        *,
        system: ExternalSystem,
        vendor_key: Callable[[Supplier], str],
        tax_id: Callable[[str], str],
    ) -> int:
        """Adds or replaces the vendors of imported suppliers, as `seeded` would have made
        them: each one past onboarding, under its vendor link for `system` when the bundle
        gives one, else under this ERP's own key. Returns how many it wrote."""
        written = 0
        with self._lock:
            for entry in suppliers:
                supplier = entry.supplier
                if supplier.status is SupplierStatus.ONBOARDING:
                    continue
                linked = (link.vendor_key for link in entry.vendor_links if link.system is system)
                key = next(linked, None) or vendor_key(supplier)
                self.vendors[key] = _vendor(supplier, key, tax_id)
                written += 1
        return written

    def post(self, draft: Draft, *, token: str) -> tuple[Document, bool]:
        """The document for `token`, and whether it was posted now (False: a repeat)."""
        with self._lock:
            earlier = self._by_token.get(token)
            if earlier is not None:
                return earlier, False
            vendor = self._open_vendor(draft.vendor_key, blocked_for="posting")
            if (vendor.key, draft.vendor_invoice_no) in self._billed:
                raise Refusal(
                    "DUPLICATE_INVOICE",
                    f"vendor {vendor.key} already billed invoice {draft.vendor_invoice_no}",
                )
            document = Document(
                number=self.next_number,
                token=token,
                vendor_key=vendor.key,
                external_ref=draft.external_ref,
                vendor_invoice_no=draft.vendor_invoice_no,
                currency=draft.currency,
                gross=draft.gross,
                tax=draft.tax,
                document_date=draft.document_date,
                due_date=draft.document_date + timedelta(days=vendor.term_days),
                posted_on=self.today(),
            )
            self._journal(document)  # on disk before it is booked and answered
            self.next_number += 1
            self._enter(document)
            self.posted_now.append(document)
            return document, True

    def record(self, document: Document) -> None:
        """Books a document as if posted before this run (a benchmark's history); unlike
        `post`, nothing is checked or journaled."""
        with self._lock:
            self._enter(document)
            self.next_number = max(self.next_number, document.number + 1)

    def _enter(self, document: Document) -> None:
        replaced = self.documents.get(document.number)
        self.documents[document.number] = document
        if replaced is not None:  # a journal replayed over a seed of another size: rare
            self._by_token.clear()
            self._billed.clear()
            for kept in self.documents.values():
                self._index(kept)
            return
        self._index(document)

    def _index(self, document: Document) -> None:
        self._by_token.setdefault(document.token, document)
        self._billed.add((document.vendor_key, document.vendor_invoice_no))

    def keep_journal(self, path: Path) -> int:
        """Replays the postings journaled at `path` by an earlier run, then journals every new
        one there before it is answered: a real ERP's ledger outlives its process, and a
        simulator killed mid-run must too, or a replay after the restart would book twice.
        Returns how many postings it replayed. (`posted_now` holds them again, so the control
        API's ledger covers every run.)"""
        with self._lock:
            replayed = 0
            if path.exists():
                for line in path.read_text(encoding="utf-8").splitlines():
                    if not line.strip():
                        continue  # a line cut short by a kill is never followed by another
                    document = _document_from_json(json.loads(line))
                    self._enter(document)
                    self.posted_now.append(document)
                    self.next_number = max(self.next_number, document.number + 1)
                    replayed += 1
            path.parent.mkdir(parents=True, exist_ok=True)
            self.journal = path
            return replayed

    def _journal(self, document: Document) -> None:
        if self.journal is None:
            return
        with self.journal.open("a", encoding="utf-8") as file:
            file.write(json.dumps(_document_json(document)) + "\n")
            file.flush()
            os.fsync(file.fileno())

    def _open_vendor(self, key: str, *, blocked_for: str) -> Vendor:
        """The vendor a posting or a payment order names; refused when unknown or blocked."""
        vendor = self.vendors.get(key)
        if vendor is None:
            raise Refusal("VENDOR_UNKNOWN", f"vendor {key} does not exist")
        if vendor.blocked:
            raise Refusal("VENDOR_BLOCKED", f"vendor {vendor.key} is blocked for {blocked_for}")
        return vendor

    def by_token(self, token: str) -> Document | None:
        return self._by_token.get(token)

    def postings_of(self, external_ref: str) -> list[Document]:
        """Every document booked for one of our invoices: more than one is a double posting."""
        return [d for d in self.documents.values() if d.external_ref == external_ref]

    def payments_of(self, number: int) -> list[Payment]:
        return [p for p in self.payments if p.document_number == number]

    def payments_since(self, day: date) -> list[Payment]:
        return sorted(
            (p for p in self.payments if p.value_date >= day),
            key=lambda p: (p.value_date, p.reference),
        )

    def pay(self, number: int, *, value_date: date) -> Payment:
        """A payment run releasing the whole document (the control API's doing)."""
        with self._lock:
            document = self.documents[number]
            payment = Payment(
                reference=f"PMT{90_000_000 + len(self.payments) + 1}",
                document_number=number,
                currency=document.currency,
                amount=document.gross,
                value_date=value_date,
            )
            self.payments.append(payment)
            return payment

    def order_payment(self, draft: OrderDraft, *, token: str) -> tuple[PaymentOrder, bool]:
        """The order for `token`, and whether it was made now (False: a repeat)."""
        with self._lock:
            earlier = self.order_by_token(token)
            if earlier is not None:
                return earlier, False
            self._open_vendor(draft.vendor_key, blocked_for="payment")
            unpaid = {
                line.document_number
                for order in self.orders.values()
                if order.status != "REJECTED"
                for line in order.draft.lines
            }
            for line in draft.lines:
                if line.document_number not in self.documents:
                    raise Refusal("DOCUMENT_UNKNOWN", f"no document {line.document_number}")
                if line.document_number in unpaid:
                    raise Refusal(
                        "ALREADY_PAID", f"document {line.document_number} is in another payment"
                    )
            number = 70_000_000 + len(self.orders) + 1
            order = PaymentOrder(number=number, token=token, draft=draft)
            self.orders[number] = order
            return order, True

    def order_by_token(self, token: str) -> PaymentOrder | None:
        return next((o for o in self.orders.values() if o.token == token), None)

    def order_status(self, number: int) -> PaymentOrder | None:
        """The order as it stands; a pending one settles now as `settlement` says."""
        with self._lock:
            order = self.orders.get(number)
            if order is None or order.status != "PENDING" or self.settlement == "PENDING":
                return order
            outcome, _, reason = self.settlement.partition(":")
            if outcome == "REJECTED":
                order.status, order.reason = "REJECTED", reason or "REJECTED"
                return order
            order.status, order.paid_on = "PAID", self.today()
            for line in order.draft.lines:
                self.payments.append(
                    Payment(
                        reference=f"PMT{order.number}",
                        document_number=line.document_number,
                        currency=order.draft.currency,
                        amount=line.amount,
                        value_date=order.draft.value_date,
                    )
                )
            return order

    def set_terms(self, supplier_id: SupplierId, days: int) -> Vendor:
        """Changes one vendor's payment terms: how tests make two ERPs disagree."""
        vendor = next(v for v in self.vendors.values() if v.supplier_id == supplier_id)
        vendor.term_days = days
        return vendor


def _vendor(supplier: Supplier, key: str, tax_id: Callable[[str], str]) -> Vendor:
    return Vendor(
        key=key,
        supplier_id=supplier.id,
        tax_id=tax_id(supplier.tax_id),
        name=supplier.legal_name,
        term_days=TERM_DAYS[supplier.payment_terms],
        blocked=supplier.status is SupplierStatus.BLOCKED,
    )


def control_routes(book: ErpBook) -> list[Route]:
    """`/_control/ledger` (GET: documents posted since start), `/_control/documents/{n}/pay`
    (POST, optional {"value_date"}), `/_control/payment-terms/{supplier_id}` (PUT {"days"}),
    `/_control/payment-settlement` (PUT {"settlement": "PAID" | "PENDING" |
    "REJECTED:<reason>"}: how pending payment orders settle), `/_control/payment-orders` (GET)."""

    async def ledger(_: Request) -> Response:
        return JSONResponse([_document_json(d) for d in book.posted_now])

    async def pay(request: Request) -> Response:
        number = int(request.path_params["number"])
        if number not in book.documents:
            return JSONResponse({"error": f"no document {number}"}, status_code=404)
        body = await request.json() if await request.body() else {}
        day = date.fromisoformat(body["value_date"]) if "value_date" in body else book.today()
        payment = book.pay(number, value_date=day)
        return JSONResponse({"reference": payment.reference, "amount": format(payment.amount, "f")})

    async def settlement(request: Request) -> Response:
        outcome = str((await request.json())["settlement"])
        if outcome.partition(":")[0] not in ("PAID", "PENDING", "REJECTED"):
            return JSONResponse({"error": f"unknown settlement {outcome}"}, status_code=400)
        book.settlement = outcome
        return JSONResponse({"settlement": outcome})

    async def orders(_: Request) -> Response:
        return JSONResponse(
            [
                {"number": o.number, "external_ref": o.draft.external_ref, "status": o.status}
                for o in book.orders.values()
            ]
        )

    async def terms(request: Request) -> Response:
        supplier_id = SupplierId(request.path_params["supplier_id"])
        days = int((await request.json())["days"])
        try:
            vendor = book.set_terms(supplier_id, days)
        except StopIteration:
            return JSONResponse({"error": f"no vendor for {supplier_id}"}, status_code=404)
        return JSONResponse({"vendor": vendor.key, "days": vendor.term_days})

    return [
        Route(f"{CONTROL_PREFIX}/ledger", ledger),
        Route(f"{CONTROL_PREFIX}/documents/{{number:int}}/pay", pay, methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/payment-terms/{{supplier_id}}", terms, methods=["PUT"]),
        Route(f"{CONTROL_PREFIX}/payment-settlement", settlement, methods=["PUT"]),
        Route(f"{CONTROL_PREFIX}/payment-orders", orders),
    ]


def _document_json(document: Document) -> dict[str, str | int]:
    """A document whole: a line of the journal, and an entry of the control API's ledger."""
    return {
        "number": document.number,
        "token": document.token,
        "vendor_key": document.vendor_key,
        "external_ref": document.external_ref,
        "vendor_invoice_no": document.vendor_invoice_no,
        "currency": document.currency,
        "gross": format(document.gross, "f"),
        "tax": format(document.tax, "f"),
        "document_date": document.document_date.isoformat(),
        "due_date": document.due_date.isoformat(),
        "posted_on": document.posted_on.isoformat(),
    }


def _document_from_json(raw: dict[str, Any]) -> Document:
    return Document(
        number=int(raw["number"]),
        token=str(raw["token"]),
        vendor_key=str(raw["vendor_key"]),
        external_ref=str(raw["external_ref"]),
        vendor_invoice_no=str(raw["vendor_invoice_no"]),
        currency=str(raw["currency"]),
        gross=Decimal(raw["gross"]),
        tax=Decimal(raw["tax"]),
        document_date=date.fromisoformat(raw["document_date"]),
        due_date=date.fromisoformat(raw["due_date"]),
        posted_on=date.fromisoformat(raw["posted_on"]),
    )
