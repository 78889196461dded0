"""Invoices, where they stand, and how they got there."""

import datetime
from decimal import Decimal
from typing import Self

import strawberry

from apgraph.domain import invoices as domain
from apgraph.domain.money import plain
from apgraph.schema.attachments import AttachmentType
from apgraph.schema.context import Info
from apgraph.schema.dates import DateRangeInput
from apgraph.schema.enums import ApprovalDecision, ApprovalStatus, InvoiceStatus
from apgraph.schema.facilities import CostCenterType, FacilityType
from apgraph.schema.money import MoneyType
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection
from apgraph.schema.payments import PaymentType
from apgraph.schema.purchasing import PurchaseOrderType
from apgraph.schema.relations import cost_center_of, facility_of, supplier_of
from apgraph.schema.suppliers import SupplierType


@strawberry.type(name="InvoiceLine")
class InvoiceLineType:
    line_no: int
    po_line_no: int | None = strawberry.field(description="The PO line billed; null if none.")
    item_id: str | None
    description: str
    quantity: Decimal
    unit_of_measure: str
    unit_price: MoneyType
    amount: MoneyType

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
    line_no: int | None
    message: str


@strawberry.type(name="StatusChange")
class StatusChangeType:
    at: datetime.datetime
    from_status: InvoiceStatus | None
    to_status: InvoiceStatus
    actor: str
    note: str | None

    @classmethod
    def from_domain(cls, change: domain.StatusChange) -> Self:
        return cls(
            at=change.at,
            from_status=change.from_status,
            to_status=change.to_status,
            actor=change.actor,
            note=change.note,
        )


@strawberry.type(name="Approval")
class ApprovalType:
    approver: str
    decision: ApprovalDecision
    at: datetime.datetime
    note: str | None

    @classmethod
    def from_domain(cls, approval: domain.Approval) -> Self:
        return cls(
            approver=approval.approver,
            decision=approval.decision,
            at=approval.at,
            note=approval.note,
        )


@strawberry.type(
    name="Invoice", description="An invoice as the supplier sent it, and where it stands."
)
class InvoiceType(Node):
    id: strawberry.ID
    supplier_invoice_number: str
    invoice_date: datetime.date
    due_date: datetime.date
    subtotal: MoneyType
    tax: MoneyType
    total: MoneyType
    status: InvoiceStatus
    received_at: datetime.datetime
    erp_document_ref: str | None = strawberry.field(
        description="The ERP's document number once posted."
    )
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

    supplier: SupplierType | None = strawberry.field(resolver=supplier_of)

    facility: FacilityType | None = strawberry.field(resolver=facility_of)

    cost_center: CostCenterType | None = strawberry.field(resolver=cost_center_of)

    @strawberry.field(description="The PO billed against; null for a non-PO invoice.")
    async def purchase_order(self, info: Info) -> PurchaseOrderType | None:
        if self.purchase_order_id is None:
            return None
        found = await info.context.loaders.purchase_orders.load(self.purchase_order_id)
        return PurchaseOrderType.from_domain(found) if found else None

    @strawberry.field
    async def lines(self, info: Info) -> list[InvoiceLineType]:
        found = await info.context.loaders.invoice_lines.load(str(self.id))
        return [InvoiceLineType.from_domain(line, self.currency) for line in found]

    @strawberry.field(description="Open reasons this invoice needs an approver or was rejected.")
    async def exceptions(self, info: Info) -> list[InvoiceExceptionType]:
        found = await info.context.loaders.invoice_exceptions.load(str(self.id))
        return [
            InvoiceExceptionType(code=e.code, line_no=e.line_no, message=e.message) for e in found
        ]

    @strawberry.field(description="Every status change, oldest first.")
    async def history(self, info: Info) -> list[StatusChangeType]:
        found = await info.context.loaders.invoice_history.load(str(self.id))
        return [StatusChangeType.from_domain(change) for change in found]

    @strawberry.field(description="Approvers' decisions, oldest first.")
    async def approvals(self, info: Info) -> list[ApprovalType]:
        found = await info.context.loaders.invoice_approvals.load(str(self.id))
        return [ApprovalType.from_domain(approval) for approval in found]

    @strawberry.field
    async def approval_status(self, info: Info) -> ApprovalStatus:
        found = await info.context.loaders.invoice_approvals.load(str(self.id))
        return domain.approval_status(self.status, [a.decision for a in found])

    @strawberry.field(
        description=(
            "Whose queue the exception is in, when reassignException moved it there; null while "
            "it waits in the queue of every approver its cost center names, and once no "
            "approver's decision is awaited (neither EXCEPTION nor ON_HOLD)."
        )
    )
    async def assigned_to(self, info: Info) -> str | None:
        if self.status not in (InvoiceStatus.EXCEPTION, InvoiceStatus.ON_HOLD):
            return None
        found = await info.context.loaders.invoice_assignments.load(str(self.id))
        return found[-1].assignee if found else None

    @strawberry.field(description="The payment settling this invoice, once scheduled.")
    async def payment(self, info: Info) -> PaymentType | None:
        allocations = await info.context.loaders.allocations_to_invoice.load(str(self.id))
        if not allocations:
            return None
        found = await info.context.loaders.payments.load(allocations[-1].payment_id)
        return PaymentType.from_domain(found) if found else None

    @strawberry.field
    async def attachments(self, info: Info) -> list[AttachmentType]:
        found = await info.context.loaders.invoice_attachments.load(str(self.id))
        return [AttachmentType.from_domain(attachment) for attachment in found]


@strawberry.type(name="InvoiceConnection")
class InvoiceConnection(Connection[InvoiceType]):
    pass


@strawberry.input(name="InvoiceFilter")
class InvoiceFilterInput:
    status: list[InvoiceStatus] | None = None
    supplier_id: strawberry.ID | None = None
    facility_id: strawberry.ID | None = None
    purchase_order_id: strawberry.ID | None = None
    invoice_date: DateRangeInput | None = None
