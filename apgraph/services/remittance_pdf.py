"""The remittance advice as a one-page PDF (fpdf2: pure Python, core fonts, no I/O)."""

from datetime import datetime

from fpdf import FPDF

from apgraph.domain.remittance import RemittanceAdvice, amount_text

_COLUMNS = (
    ("Invoice", 38),
    ("Supplier no.", 38),
    ("Date", 26),
    ("Total", 30),
    ("Discount", 26),
    ("Paid", 30),
)


def render_pdf(advice: RemittanceAdvice, *, at: datetime) -> bytes:
    """Payer, payee, the payment, and one row per invoice paid; amounts as plain decimals."""
    payment = advice.payment
    pdf = FPDF(format="Letter")
    pdf.set_creation_date(at)  # not the machine's clock: the same advice, the same bytes
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, _latin1("Remittance advice"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for label, value in (
        ("Payer", advice.payer_name),
        ("Payee", f"{advice.payee_name} ({payment.supplier_id})"),
        ("Payment", f"{payment.id}  ERP reference {payment.erp_reference or '-'}"),
        ("Pay date", payment.scheduled_date.isoformat()),
        ("Method", payment.method.value),
        ("Amount", f"{amount_text(payment.amount, payment.currency)} {payment.currency}"),
        (
            "Discounts taken",
            f"{amount_text(payment.discount, payment.currency)} {payment.currency}",
        ),
    ):
        pdf.cell(40, 6, _latin1(label))
        pdf.cell(0, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 9)
    for title, width in _COLUMNS:
        pdf.cell(width, 7, title, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", size=9)
    for line in advice.lines:
        row = (
            line.invoice_id,
            line.supplier_invoice_number,
            line.invoice_date.isoformat(),
            amount_text(line.invoice_total, payment.currency),
            amount_text(line.discount, payment.currency),
            amount_text(line.paid, payment.currency),
        )
        for (_, width), text in zip(_COLUMNS, row, strict=True):
            pdf.cell(width, 6, _latin1(text), border=1)
        pdf.ln()
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    """The core fonts speak Latin-1; anything else prints as '?' rather than failing."""
    return text.encode("latin-1", errors="replace").decode("latin-1")
