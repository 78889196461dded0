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
    quantity: Decimal
    unit_of_measure: str
    unit_price: Decimal = strawberry.field(description="Per unit, up to 4 decimals.")
    amount: Decimal = strawberry.field(description="As the supplier computed it.")
    po_line_no: int | None = strawberry.field(
        default=None, description="The PO line it bills; null on a non-PO invoice."
    )
    description: str = ""
    item_id: str | None = strawberry.field(
        default=None, description="The supplier's own item number, if it sends one."
    )


@strawberry.input(name="SubmitInvoiceInput", description="An invoice as the supplier sends it.")
class SubmitInvoiceInput:
    supplier_id: strawberry.ID
    supplier_invoice_number: str
    facility_id: strawberry.ID
    cost_center_id: strawberry.ID
    invoice_date: datetime.date
    currency: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    lines: list[SubmitInvoiceLineInput]
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


@strawberry.type(name="SubmitInvoicePayload")
class SubmitInvoicePayload(InvoicePayload):
    pass


@strawberry.type(name="ApproveInvoicePayload")
class ApproveInvoicePayload(InvoicePayload):
    pass


@strawberry.type(name="RejectInvoicePayload")
class RejectInvoicePayload(InvoicePayload):
    pass


@strawberry.type(name="HoldInvoicePayload")
class HoldInvoicePayload(InvoicePayload):
    pass


@strawberry.type(name="ReleaseInvoicePayload")
class ReleaseInvoicePayload(InvoicePayload):
    pass


@strawberry.type(name="ReassignExceptionPayload")
class ReassignExceptionPayload(InvoicePayload):
    pass


@strawberry.type(name="RetryPostingPayload")
class RetryPostingPayload(InvoicePayload):
    pass
