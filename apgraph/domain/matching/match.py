"""Runs every match rule over a validated invoice and says whether it may post.

All findings are returned, so the approver sees every reason at once. The invoice's result is
the union of its lines' codes: any code but a `flag`-ed CONTRACT_PRICE_UNAVAILABLE sends it
to EXCEPTION; none, and it posts.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from apgraph.domain.codes import MatchCode
from apgraph.domain.invoices import Invoice, InvoiceLine, InvoiceStatus
from apgraph.domain.matching.contract import (
    check_contract_price,
    contract_on,
    contract_unavailable,
)
from apgraph.domain.matching.findings import Finding, InvoiceFinding
from apgraph.domain.matching.price import check_unit_price
from apgraph.domain.matching.quantity import check_ordered, check_received
from apgraph.domain.matching.rules import MatchRules, rules_for
from apgraph.domain.purchasing import ContractPrice, GoodsReceipt, PurchaseOrderLine

_CODE_ORDER = {code: position for position, code in enumerate(MatchCode)}


@dataclass(frozen=True, slots=True)
class BilledInvoice:
    """Another invoice with its lines: what it billed on a PO line counts towards this one."""

    invoice: Invoice
    lines: Sequence[InvoiceLine]


@dataclass(frozen=True, slots=True)
class MatchResult:
    findings: tuple[Finding | InvoiceFinding, ...]  # by line, in MatchCode order; then the
    # invoice's own (domain/review.py)

    def with_review(self, found: Sequence[InvoiceFinding]) -> "MatchResult":
        return MatchResult((*self.findings, *found))

    @property
    def needs_approval(self) -> bool:
        """Any finding but a flag: the invoice goes to EXCEPTION."""
        return any(finding.blocking for finding in self.findings)

    @property
    def codes(self) -> tuple[MatchCode, ...]:
        """The union of the lines' codes, each once, flags included."""
        return tuple(sorted({f.code for f in self.findings}, key=_CODE_ORDER.__getitem__))


def match_invoice(
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    *,
    order_lines: Sequence[PurchaseOrderLine],
    receipts: Sequence[GoodsReceipt] | None,
    billed_before: Iterable[BilledInvoice],
    contracts: Sequence[ContractPrice] | None,
    rules: MatchRules,
    newest: bool = False,
) -> MatchResult | None:
    """The match of DESIGN §4, or None when it cannot run yet.

    `receipts` None: materials management is down. Nothing is invented in its place; the
    invoice waits in VALIDATED, with no codes, until the match can run.
    `contracts` None: sourcing is down; each PO line is matched on the PO price and flagged
    CONTRACT_PRICE_UNAVAILABLE, blocking where the category's policy says `block`.
    `billed_before`: other invoices on the same PO. Those received before this one count
    towards its quantities unless REJECTED (EXCEPTION and VALIDATED ones included); the rest
    are skipped, so a caller may pass every invoice of the PO.
    `newest`: the invoice is being stored now, in the unit of work that holds its PO lines'
    locks, so every other invoice on file was stored before it and counts, whenever it was
    received: a concurrent submission may read the clock first and get the lock last, and
    ordering by `received_at` would then let each of the two overlook the other.

    A non-PO invoice has nothing to match against and matches cleanly. Every line of a PO
    invoice must name a PO line of `order_lines` (the input checks made sure of it).
    """
    if invoice.purchase_order_id is None:
        return MatchResult(())
    if receipts is None:
        return None
    ordered = {line.line_no: line for line in order_lines}
    received = _received(receipts, invoice)
    billed = _billed(billed_before, invoice, newest=newest)
    for line in lines:
        billed[_po_line_no(line, ordered)] += line.quantity
    findings: list[Finding] = []
    for line in sorted(lines, key=lambda line: line.line_no):
        po_line = ordered[_po_line_no(line, ordered)]
        rules_here = rules_for(rules, po_line.category)
        in_all = billed[po_line.line_no]
        found = [
            check_received(
                line_no=line.line_no,
                billed=in_all,
                received=received.get(po_line.line_no),
                tolerance=rules_here.quantity,
                receipt_required=rules_here.receipt_required,
            ),
            check_ordered(line_no=line.line_no, billed=in_all, ordered=po_line.quantity),
            check_unit_price(
                line_no=line.line_no,
                billed=line.unit_price,
                ordered=po_line.unit_price,
                tolerance=rules_here.price,
            ),
        ]
        if contracts is None:
            found.append(
                contract_unavailable(
                    line_no=line.line_no,
                    billed=line.unit_price,
                    ordered=po_line.unit_price,
                    when_down=rules_here.sourcing_down,
                )
            )
        elif contract := contract_on(
            contracts,
            supplier_id=invoice.supplier_id,
            item_id=po_line.item_id,
            currency=invoice.currency,
            day=invoice.invoice_date,
        ):
            found.append(
                check_contract_price(
                    line_no=line.line_no,
                    billed=line.unit_price,
                    contract=contract,
                    tolerance=rules_here.price,
                )
            )
        findings += sorted(
            (
                f.described(unit=po_line.unit_of_measure, currency=invoice.currency)
                for f in found
                if f is not None
            ),
            key=lambda f: _CODE_ORDER[f.code],
        )
    return MatchResult(tuple(findings))


def _po_line_no(line: InvoiceLine, ordered: Mapping[int, PurchaseOrderLine]) -> int:
    if line.po_line_no is None or line.po_line_no not in ordered:
        raise ValueError(
            f"invoice line {line.line_no} names PO line {line.po_line_no}, which the order "
            "does not have; check_input refuses such an invoice before it is stored"
        )
    return line.po_line_no


def _received(receipts: Iterable[GoodsReceipt], invoice: Invoice) -> dict[int, Decimal]:
    """Per PO line with at least one receipt, the quantity received in all."""
    received: dict[int, Decimal] = defaultdict(Decimal)
    for receipt in receipts:
        if receipt.purchase_order_id == invoice.purchase_order_id:
            received[receipt.line_no] += receipt.quantity
    return dict(received)


def _billed(
    others: Iterable[BilledInvoice], invoice: Invoice, *, newest: bool
) -> defaultdict[int, Decimal]:
    """Per PO line, what the invoices before this one billed, unless rejected."""
    billed: defaultdict[int, Decimal] = defaultdict(Decimal)
    for other in others:
        if _counts_before(other.invoice, invoice, newest=newest):
            for line in other.lines:
                if line.po_line_no is not None:
                    billed[line.po_line_no] += line.quantity
    return billed


def _counts_before(other: Invoice, invoice: Invoice, *, newest: bool) -> bool:
    return (
        other.id != invoice.id
        and other.purchase_order_id == invoice.purchase_order_id
        and other.status is not InvoiceStatus.REJECTED
        and (newest or (other.received_at, other.id) < (invoice.received_at, invoice.id))
    )
