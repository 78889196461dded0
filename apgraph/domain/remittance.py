"""Remittance advice: what a paid payment settled, for the supplier's receivables clerk.

Pure text formats here (CSV, and ANSI X12 820 for suppliers who take EDI); the PDF is
rendered by the service with a PDF library. Every format lists the same lines: the invoices
paid, their totals, the discounts taken and what was paid for each.
"""

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from apgraph.domain.ids import InvoiceId, PaymentId
from apgraph.domain.invoices import Invoice
from apgraph.domain.money import minor_units, round_half_up
from apgraph.domain.payments import Payment, PaymentAllocation, PaymentMethod


class RemittanceFormat(Enum):
    """A remittance advice's format."""

    PDF = "PDF"
    """A one-page document to read or print."""
    CSV = "CSV"
    """One row per invoice paid, for the supplier's receivables system."""
    X12_820 = "X12_820"
    """ANSI X12 820 (004010) payment order / remittance advice, for suppliers on EDI."""


MEDIA_TYPES = {
    RemittanceFormat.PDF: "application/pdf",
    RemittanceFormat.CSV: "text/csv",
    RemittanceFormat.X12_820: "application/edi-x12",
}
EXTENSIONS = {
    RemittanceFormat.PDF: "pdf",
    RemittanceFormat.CSV: "csv",
    RemittanceFormat.X12_820: "x12",
}


@dataclass(frozen=True, slots=True)
class RemittanceLine:
    invoice_id: InvoiceId
    supplier_invoice_number: str
    invoice_date: date
    invoice_total: Decimal
    discount: Decimal
    paid: Decimal


def remittance_ref(payment_id: PaymentId) -> str:
    """What the supplier's advice is called, set on the payment when it is confirmed PAID."""
    return f"RA-{payment_id}"


def remittance_line(invoice: Invoice, allocation: PaymentAllocation) -> RemittanceLine:
    """One invoice of the advice: its total, and what the payment paid and took off for it."""
    return RemittanceLine(
        invoice_id=invoice.id,
        supplier_invoice_number=invoice.supplier_invoice_number,
        invoice_date=invoice.invoice_date,
        invoice_total=invoice.total,
        discount=allocation.discount,
        paid=allocation.amount,
    )


@dataclass(frozen=True, slots=True)
class RemittanceAdvice:
    payment: Payment
    payer_name: str  # the facility
    payee_name: str  # the supplier's legal name
    lines: tuple[RemittanceLine, ...]

    @property
    def reference(self) -> str:
        """What the supplier quotes back: the payment ID and the ERP's payment number."""
        return f"{self.payment.id}/{self.payment.erp_reference or '-'}"


@dataclass(frozen=True, slots=True)
class RemittanceDocument:
    payment_id: str
    format: RemittanceFormat
    filename: str
    content: bytes

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.format]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def document(advice: RemittanceAdvice, fmt: RemittanceFormat, content: bytes) -> RemittanceDocument:
    name = f"remittance-{advice.payment.id}.{EXTENSIONS[fmt]}"
    return RemittanceDocument(advice.payment.id, fmt, name, content)


def documents_of(advice: RemittanceAdvice, *, pdf: bytes, at: datetime) -> list[RemittanceDocument]:
    """The advice in every format, stored when the payment is confirmed: the PDF as rendered
    outside the domain (a PDF library), the CSV and the X12 820 (numbered by the payment)."""
    control = int(advice.payment.id.removeprefix("PAY-"))
    return [
        document(advice, RemittanceFormat.PDF, pdf),
        document(advice, RemittanceFormat.CSV, as_csv(advice)),
        document(
            advice, RemittanceFormat.X12_820, as_x12_820(advice, control_number=control, at=at)
        ),
    ]


CSV_HEADER = (
    "payment_id",
    "erp_reference",
    "pay_date",
    "currency",
    "invoice_id",
    "supplier_invoice_number",
    "invoice_date",
    "invoice_total",
    "discount",
    "paid",
)


def as_csv(advice: RemittanceAdvice) -> bytes:
    """One row per invoice paid; amounts as plain decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    payment = advice.payment
    for line in advice.lines:
        writer.writerow(
            (
                payment.id,
                payment.erp_reference or "",
                payment.scheduled_date.isoformat(),
                payment.currency,
                line.invoice_id,
                line.supplier_invoice_number,
                line.invoice_date.isoformat(),
                amount_text(line.invoice_total, payment.currency),
                amount_text(line.discount, payment.currency),
                amount_text(line.paid, payment.currency),
            )
        )
    return buffer.getvalue().encode("utf-8")


_X12_METHODS = {
    PaymentMethod.ACH: "ACH",
    PaymentMethod.WIRE: "FWT",
    PaymentMethod.CHECK: "CHK",
    PaymentMethod.VIRTUAL_CARD: "VCD",  # mutually defined: no X12 code for card payments
}
SENDER_ID = "APGRAPH"


def as_x12_820(advice: RemittanceAdvice, *, control_number: int, at: datetime) -> bytes:
    """An ANSI X12 820 (004010) payment order / remittance advice, one transaction set.

    `control_number` numbers the interchange, the group and the set (ISA13, GS06, ST02); the
    trailers count what they close (SE01 segments, GE01 sets, IEA01 groups).
    """
    payment = advice.payment
    receiver = payment.supplier_id.replace("-", "")
    stamp_date, stamp_time = at.strftime("%y%m%d"), at.strftime("%H%M")
    isa = "ISA*00*{:<10}*00*{:<10}*ZZ*{:<15}*ZZ*{:<15}*{}*{}*U*00401*{:09d}*0*P*>".format(
        "", "", SENDER_ID, receiver, stamp_date, stamp_time, control_number
    )
    body = [
        f"ST*820*{control_number:04d}",
        "*".join(
            [
                "BPR",
                "I",
                amount_text(payment.amount, payment.currency),
                "C",
                _X12_METHODS[payment.method],
                *[""] * 11,
                payment.scheduled_date.strftime("%Y%m%d"),
            ]
        ),
        f"TRN*1*{payment.id}*{SENDER_ID}",
        f"CUR*PR*{payment.currency}",
        f"REF*TN*{_text(payment.erp_reference or payment.id)}",
        f"DTM*097*{payment.scheduled_date.strftime('%Y%m%d')}",
        f"N1*PR*{_text(advice.payer_name)}",
        f"N1*PE*{_text(advice.payee_name)}*92*{payment.supplier_id}",
        "ENT*1",
    ]
    for line in advice.lines:
        body += [
            "*".join(
                [
                    "RMR",
                    "IV",
                    _text(line.supplier_invoice_number),
                    "",
                    amount_text(line.paid, payment.currency),
                    amount_text(line.invoice_total, payment.currency),
                    amount_text(line.discount, payment.currency),
                ]
            ),
            f"REF*ZZ*{line.invoice_id}",
            f"DTM*003*{line.invoice_date.strftime('%Y%m%d')}",
        ]
    body.append(f"SE*{len(body) + 1}*{control_number:04d}")
    segments = [
        isa,
        f"GS*RA*{SENDER_ID}*{receiver}*{at.strftime('%Y%m%d')}*{stamp_time}*{control_number}*X*004010",
        *body,
        f"GE*1*{control_number}",
        f"IEA*1*{control_number:09d}",
    ]
    return ("~\n".join(segments) + "~\n").encode("ascii", errors="replace")


def amount_text(value: Decimal, currency: str) -> str:
    """In the currency's minor units, as plain digits: 7076.1300 is 7076.13 in USD."""
    return format(round_half_up(value, minor_units(currency)), "f")


def _text(value: str) -> str:
    """Element text without the separators X12 reserves (* ~ >)."""
    return "".join(" " if char in "*~>\n\r" else char for char in value)[:60]
