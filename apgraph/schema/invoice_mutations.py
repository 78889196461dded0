"""Inputs and payloads of the invoice workflow's mutations (Shopify rules 22-24).

Every payload is `{ invoice, userErrors }` with both nullable-or-empty: a refused command
answers with user errors and no invoice, a successful one with the invoice as it stands.
Amounts are `Decimal` strings; the domain judges them, never the schema.
"""

import datetime
from decimal import Decimal
from typing import Self

import strawberry

from apgraph.domain.invoices import Invoice
from apgraph.domain.problems import Outcome
from apgraph.schema.invoices import InvoiceType
from apgraph.schema.user_errors import UserError, user_errors


@strawberry.input(name="SubmitInvoiceLineInput", description="One billed line.")
class SubmitInvoiceLineInput:
    quantity: Decimal = strawberry.field(
        description='Billed quantity as a decimal string, e.g. "12" or "2.5".'
    )
    unit_of_measure: str = strawberry.field(description="As on the PO line, e.g. EA, BX, HR.")
    unit_price: Decimal = strawberry.field(description="Per unit, up to 4 decimals.")
    amount: Decimal = strawberry.field(description="As the supplier computed it.")
    po_line_no: int | None = strawberry.field(
        default=None, description="The PO line it bills; null on a non-PO invoice."
    )
    description: str = strawberry.field(default="", description="The supplier's text for the line.")
    item_id: str | None = strawberry.field(
        default=None, description="The supplier's own item number, if it sends one."
    )


@strawberry.input(name="SubmitInvoiceInput", description="An invoice as the supplier sends it.")
class SubmitInvoiceInput:
    supplier_id: strawberry.ID = strawberry.field(
        description="The billing supplier, SUP-…; a supplier token may only name its own."
    )
    supplier_invoice_number: str = strawberry.field(
        description="The number printed on the invoice; duplicates are checked on it."
    )
    facility_id: strawberry.ID = strawberry.field(description="The facility billed, FAC-….")
    cost_center_id: strawberry.ID = strawberry.field(
        description="The cost center charged, CC-<facility>-<GL code>, of that facility."
    )
    invoice_date: datetime.date = strawberry.field(
        description="The date on the invoice, YYYY-MM-DD."
    )
    currency: str = strawberry.field(description="ISO 4217 code; must be the PO's currency.")
    subtotal: Decimal = strawberry.field(description="Sum of the line amounts, a decimal string.")
    tax: Decimal = strawberry.field(description="Tax billed, a decimal string.")
    total: Decimal = strawberry.field(description="Subtotal plus tax, exactly.")
    lines: list[SubmitInvoiceLineInput] = strawberry.field(description="At least one line.")
    purchase_order_id: strawberry.ID | None = strawberry.field(
        default=None, description="Null for a non-PO invoice."
    )


@strawberry.type(name="InvoicePayload", description="An invoice command's result.")
class InvoicePayload:
    invoice: InvoiceType | None = strawberry.field(
        description="The invoice as it stands after the command; null when it was refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the command was refused, next to the fields at fault."
    )

    @classmethod
    def from_outcome(cls, outcome: Outcome[Invoice]) -> Self:
        invoice = outcome.value
        return cls(
            invoice=InvoiceType.from_domain(invoice) if invoice is not None else None,
            user_errors=user_errors(outcome.problems),
        )


@strawberry.type(name="SubmitInvoicePayload", description="submitInvoice's result.")
class SubmitInvoicePayload(InvoicePayload):
    pass


@strawberry.type(name="ApproveInvoicePayload", description="approveInvoice's result.")
class ApproveInvoicePayload(InvoicePayload):
    pass


@strawberry.type(name="RejectInvoicePayload", description="rejectInvoice's result.")
class RejectInvoicePayload(InvoicePayload):
    pass


@strawberry.type(name="HoldInvoicePayload", description="holdInvoice's result.")
class HoldInvoicePayload(InvoicePayload):
    pass


@strawberry.type(name="ReleaseInvoicePayload", description="releaseInvoice's result.")
class ReleaseInvoicePayload(InvoicePayload):
    pass


@strawberry.type(name="ReassignExceptionPayload", description="reassignException's result.")
class ReassignExceptionPayload(InvoicePayload):
    pass


@strawberry.type(name="RetryPostingPayload", description="retryPosting's result.")
class RetryPostingPayload(InvoicePayload):
    pass
