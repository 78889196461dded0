"""Invoices, where they stand, and how they got there."""

import datetime
from decimal import Decimal
from typing import Self

import strawberry

from apgraph.domain import invoices as domain
from apgraph.domain.approvals import Assignment
from apgraph.domain.money import plain
from apgraph.domain.purchasing import PurchaseOrder
from apgraph.schema.attachments import AttachmentType
from apgraph.schema.batched import EachParent, Loaded, batched, stored, stored_field
from apgraph.schema.context import Context, Info
from apgraph.schema.dates import DateRangeInput
from apgraph.schema.enums import ApprovalDecision, ApprovalStatus, InvoiceStatus
from apgraph.schema.facilities import CostCenterType, FacilityType
from apgraph.schema.money import MoneyType
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection
from apgraph.schema.payments import PaymentType
from apgraph.schema.purchasing import PurchaseOrderType
from apgraph.schema.relations import (
    COST_CENTER,
    FACILITY,
    SUPPLIER,
    cost_center_of,
    facility_of,
    supplier_of,
)
from apgraph.schema.suppliers import SupplierType


@strawberry.type(name="InvoiceLine", description="One billed line of an invoice.")
class InvoiceLineType:
    line_no: int = stored_field("1, 2, … in the order the supplier sent them.")
    po_line_no: int | None = stored_field("The PO line billed; null if none.")
    item_id: str | None = stored_field("The item billed, when the supplier named it.")
    description: str = stored_field("The supplier's text for the line.")
    quantity: Decimal = stored_field(
        "Billed quantity in the line's unit of measure, a decimal string."
    )
    unit_of_measure: str = stored_field("e.g. EA, BX, CS, HR.")
    unit_price: MoneyType = stored_field("Price per unit, in the invoice currency.")
    amount: MoneyType = stored_field("The line total as billed.")

    @classmethod
    def from_domain(cls, line: domain.InvoiceLine, currency: str) -> Self:
        return cls(
            line_no=line.line_no,
            po_line_no=line.po_line_no,
            item_id=line.item_id,
            description=line.description,
            quantity=plain(line.quantity),
            unit_of_measure=line.unit_of_measure,
            unit_price=MoneyType.of(line.unit_price, currency),
            amount=MoneyType.of(line.amount, currency),
        )


@strawberry.type(name="InvoiceException", description="Why an invoice needs a person.")
class InvoiceExceptionType:
    code: str = strawberry.field(description="A stable reason code, e.g. QTY_VARIANCE.")
    line_no: int | None = strawberry.field(
        description="The invoice line concerned; null when it concerns the whole invoice."
    )
    message: str = strawberry.field(description="What is off, in words for a person.")


@strawberry.type(name="StatusChange", description="One step of an invoice's lifecycle.")
class StatusChangeType:
    at: datetime.datetime = strawberry.field(description="When the change was committed (UTC).")
    from_status: InvoiceStatus | None = strawberry.field(
        description="The status before; null for the first step (receipt)."
    )
    to_status: InvoiceStatus = strawberry.field(description="The status after.")
    actor: str = strawberry.field(
        description="Who made the change: a user, a partner client, or apgraph itself."
    )
    note: str | None = strawberry.field(description="The reason or note given, if any.")

    @classmethod
    def from_domain(cls, change: domain.StatusChange) -> Self:
        return cls(
            at=change.at,
            from_status=change.from_status,
            to_status=change.to_status,
            actor=change.actor,
            note=change.note,
        )


@strawberry.type(name="Approval", description="An approver's decision on an invoice in exception.")
class ApprovalType:
    approver: str = strawberry.field(description="The approver's user name.")
    decision: ApprovalDecision = strawberry.field(description="What they decided.")
    at: datetime.datetime = strawberry.field(description="When (UTC).")
    note: str | None = strawberry.field(description="Their note or reason, if any.")

    @classmethod
    def from_domain(cls, approval: domain.Approval) -> Self:
        return cls(
            approver=approval.approver,
            decision=approval.decision,
            at=approval.at,
            note=approval.note,
        )


PURCHASE_ORDER: Loaded["InvoiceType", PurchaseOrder | None, PurchaseOrderType | None] = Loaded(
    key=lambda invoice: invoice.purchase_order_id,
    loader=lambda loaders: loaders.purchase_orders,
    build=lambda _, found: PurchaseOrderType.from_domain(found) if found else None,
    shared=True,
)
LINES: Loaded["InvoiceType", list[domain.InvoiceLine], list[InvoiceLineType]] = Loaded(
    key=lambda invoice: str(invoice.id),
    loader=lambda loaders: loaders.invoice_lines,
    build=lambda invoice, found: [
        InvoiceLineType.from_domain(line, invoice.currency) for line in found or ()
    ],
)


def _approval_status(invoice: "InvoiceType", found: list[domain.Approval] | None) -> ApprovalStatus:
    return domain.approval_status(invoice.status, [a.decision for a in found or ()])


HISTORY: Loaded["InvoiceType", list[domain.StatusChange], list[StatusChangeType]] = Loaded(
    key=lambda invoice: str(invoice.id),
    loader=lambda loaders: loaders.invoice_history,
    build=lambda _, found: [StatusChangeType.from_domain(change) for change in found or ()],
)
APPROVALS: Loaded["InvoiceType", list[domain.Approval], list[ApprovalType]] = Loaded(
    key=lambda invoice: str(invoice.id),
    loader=lambda loaders: loaders.invoice_approvals,
    build=lambda _, found: [ApprovalType.from_domain(approval) for approval in found or ()],
)
APPROVAL_STATUS: Loaded["InvoiceType", list[domain.Approval], ApprovalStatus] = Loaded(
    key=lambda invoice: str(invoice.id),
    loader=lambda loaders: loaders.invoice_approvals,
    build=_approval_status,
)
ASSIGNED_TO: Loaded["InvoiceType", list[Assignment], str | None] = Loaded(
    # nobody's decision is awaited outside EXCEPTION and ON_HOLD: nothing to load
    key=lambda invoice: (
        str(invoice.id)
        if invoice.status in (InvoiceStatus.EXCEPTION, InvoiceStatus.ON_HOLD)
        else None
    ),
    loader=lambda loaders: loaders.invoice_assignments,
    build=lambda _, found: found[-1].assignee if found else None,
)


async def _exceptions(
    invoice: "InvoiceType", context: Context, *, approved: bool
) -> list[InvoiceExceptionType]:
    """The recorded reasons when the invoice's approval is (`approved`) or is not APPROVED."""
    decisions = await context.loaders.invoice_approvals.load(str(invoice.id))
    if (_approval_status(invoice, decisions) is ApprovalStatus.APPROVED) != approved:
        return []
    found = await context.loaders.invoice_exceptions.load(str(invoice.id))
    return [InvoiceExceptionType(code=e.code, line_no=e.line_no, message=e.message) for e in found]


async def _open_exceptions(invoice: "InvoiceType", context: Context) -> list[InvoiceExceptionType]:
    return await _exceptions(invoice, context, approved=False)


async def _approved_exceptions(
    invoice: "InvoiceType", context: Context
) -> list[InvoiceExceptionType]:
    return await _exceptions(invoice, context, approved=True)


OPEN_EXCEPTIONS: EachParent["InvoiceType", list[InvoiceExceptionType]] = EachParent(
    _open_exceptions
)
APPROVED_EXCEPTIONS: EachParent["InvoiceType", list[InvoiceExceptionType]] = EachParent(
    _approved_exceptions
)


@strawberry.type(
    name="Invoice", description="An invoice as the supplier sent it, and where it stands."
)
class InvoiceType(Node):
    id: strawberry.ID = stored_field("apgraph's canonical ID, INV-00000042.")
    supplier_invoice_number: str = stored_field("The number the supplier printed on the invoice.")
    invoice_date: datetime.date = stored_field("The date on the invoice.")
    due_date: datetime.date = stored_field("Invoice date plus the supplier's payment terms.")
    subtotal: MoneyType = stored_field("Sum of the line amounts, before tax.")
    tax: MoneyType = stored_field("Tax billed.")
    total: MoneyType = stored_field("Subtotal plus tax: what the supplier asks.")
    status: InvoiceStatus = stored_field("Where the invoice stands now.")
    received_at: datetime.datetime = stored_field("When apgraph received it (UTC).")
    erp_document_ref: str | None = stored_field("The ERP's document number once posted.")
    supplier_id: strawberry.Private[str]
    facility_id: strawberry.Private[str]
    cost_center_id: strawberry.Private[str]
    purchase_order_id: strawberry.Private[str | None]
    currency: strawberry.Private[str]

    @classmethod
    def from_domain(cls, invoice: domain.Invoice) -> Self:
        return cls(
            id=strawberry.ID(invoice.id),
            supplier_invoice_number=invoice.supplier_invoice_number,
            invoice_date=invoice.invoice_date,
            due_date=invoice.due_date,
            subtotal=MoneyType.of(invoice.subtotal, invoice.currency),
            tax=MoneyType.of(invoice.tax, invoice.currency),
            total=MoneyType.of(invoice.total, invoice.currency),
            status=invoice.status,
            received_at=invoice.received_at,
            erp_document_ref=invoice.erp_document_ref,
            supplier_id=invoice.supplier_id,
            facility_id=invoice.facility_id,
            cost_center_id=invoice.cost_center_id,
            purchase_order_id=invoice.purchase_order_id,
            currency=invoice.currency,
        )

    supplier: SupplierType | None = strawberry.field(
        resolver=supplier_of,
        metadata={**batched(SUPPLIER), **stored()},
        description="Who sent the invoice; null if hidden from the caller.",
    )

    facility: FacilityType | None = strawberry.field(
        resolver=facility_of,
        metadata={**batched(FACILITY), **stored()},
        description="The facility billed.",
    )

    cost_center: CostCenterType | None = strawberry.field(
        resolver=cost_center_of,
        metadata={**batched(COST_CENTER), **stored()},
        description="The cost center the spend is charged to.",
    )

    @strawberry.field(
        description="The PO billed against; null for a non-PO invoice.",
        metadata={**batched(PURCHASE_ORDER), **stored()},
    )
    async def purchase_order(self, info: Info) -> PurchaseOrderType | None:
        return await PURCHASE_ORDER.resolve(self, info.context)

    @strawberry.field(
        description="The billed lines, in line order.",
        metadata={**batched(LINES), **stored()},
    )
    async def lines(self, info: Info) -> list[InvoiceLineType]:
        return await LINES.resolve(self, info.context)

    @strawberry.field(
        description=(
            "Open reasons: why this invoice needs an approver, or was rejected (and flags such "
            "as CONTRACT_PRICE_UNAVAILABLE on an invoice that posted without one). Empty once "
            "an approver approved the invoice and it moved on: its reasons are then "
            "approvedExceptions."
        ),
        metadata=batched(OPEN_EXCEPTIONS),
    )
    async def exceptions(self, info: Info) -> list[InvoiceExceptionType]:
        return await OPEN_EXCEPTIONS.resolve(self, info.context)

    @strawberry.field(
        description=(
            "The reasons approvers accepted when they approved this invoice, once it moved on "
            "(POSTED and after); empty while any reason is still open."
        ),
        metadata=batched(APPROVED_EXCEPTIONS),
    )
    async def approved_exceptions(self, info: Info) -> list[InvoiceExceptionType]:
        return await APPROVED_EXCEPTIONS.resolve(self, info.context)

    @strawberry.field(description="Every status change, oldest first.", metadata=batched(HISTORY))
    async def history(self, info: Info) -> list[StatusChangeType]:
        return await HISTORY.resolve(self, info.context)

    @strawberry.field(
        description="Approvers' decisions, oldest first.", metadata=batched(APPROVALS)
    )
    async def approvals(self, info: Info) -> list[ApprovalType]:
        return await APPROVALS.resolve(self, info.context)

    @strawberry.field(
        description="Where the approval of an exception stands.",
        metadata=batched(APPROVAL_STATUS),
    )
    async def approval_status(self, info: Info) -> ApprovalStatus:
        return await APPROVAL_STATUS.resolve(self, info.context)

    @strawberry.field(
        description=(
            "Whose queue the exception is in, when reassignException moved it there; null while "
            "it waits in the queue of every approver its cost center names, and once no "
            "approver's decision is awaited (neither EXCEPTION nor ON_HOLD)."
        ),
        metadata=batched(ASSIGNED_TO),
    )
    async def assigned_to(self, info: Info) -> str | None:
        return await ASSIGNED_TO.resolve(self, info.context)

    @strawberry.field(description="The payment settling this invoice, once scheduled.")
    async def payment(self, info: Info) -> PaymentType | None:
        allocations = await info.context.loaders.allocations_to_invoice.load(str(self.id))
        if not allocations:
            return None
        found = await info.context.loaders.payments.load(allocations[-1].payment_id)
        return PaymentType.from_domain(found) if found else None

    @strawberry.field(
        description="Documents attached to the invoice (metadata; bytes via downloadPath)."
    )
    async def attachments(self, info: Info) -> list[AttachmentType]:
        found = await info.context.loaders.invoice_attachments.load(str(self.id))
        return [AttachmentType.from_domain(attachment) for attachment in found]


@strawberry.type(name="InvoiceConnection", description="A page of invoices.")
class InvoiceConnection(Connection[InvoiceType]):
    pass


@strawberry.input(
    name="InvoiceFilter", description="Every given criterion must hold; omitted ones match all."
)
class InvoiceFilterInput:
    status: list[InvoiceStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    supplier_id: strawberry.ID | None = strawberry.field(default=None, description="SUP-… ID.")
    facility_id: strawberry.ID | None = strawberry.field(default=None, description="FAC-… ID.")
    purchase_order_id: strawberry.ID | None = strawberry.field(default=None, description="PO-… ID.")
    invoice_date: DateRangeInput | None = strawberry.field(
        default=None, description="Invoice date within this range (inclusive)."
    )
