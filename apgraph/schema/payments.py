"""Payments released to suppliers, and the invoices each one settles."""

import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from apgraph.domain.payments import Payment, PaymentAllocation
from apgraph.schema.context import Info
from apgraph.schema.dates import DateRangeInput
from apgraph.schema.enums import PaymentMethod, PaymentStatus
from apgraph.schema.money import MoneyType
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection
from apgraph.schema.relations import supplier_of
from apgraph.schema.suppliers import SupplierType

if TYPE_CHECKING:
    from apgraph.schema.invoices import InvoiceType


@strawberry.type(name="PaymentAllocation", description="The part of a payment for one invoice.")
class PaymentAllocationType:
    amount: MoneyType = strawberry.field(description="The part of the payment for this invoice.")
    invoice_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, allocation: PaymentAllocation, currency: str) -> Self:
        return cls(
            amount=MoneyType.of(allocation.amount, currency), invoice_id=allocation.invoice_id
        )

    @strawberry.field(description="The invoice settled; null if the caller may not see it.")
    async def invoice(
        self, info: Info
    ) -> Annotated["InvoiceType", strawberry.lazy("apgraph.schema.invoices")] | None:
        from apgraph.schema.invoices import InvoiceType

        found = await info.context.loaders.invoices.load(self.invoice_id)
        return InvoiceType.from_domain(found) if found else None


@strawberry.type(name="Payment", description="Money released to a supplier.")
class PaymentType(Node):
    id: strawberry.ID = strawberry.field(description="Canonical ID, PAY-00000001.")
    amount: MoneyType = strawberry.field(description="The amount paid, all allocations together.")
    method: PaymentMethod = strawberry.field(description="How the money is sent.")
    scheduled_date: datetime.date = strawberry.field(description="The pay date.")
    status: PaymentStatus = strawberry.field(description="Where the payment stands.")
    remittance_ref: str | None = strawberry.field(
        description="The bank trace or check number once released."
    )
    supplier_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, payment: Payment) -> Self:
        return cls(
            id=strawberry.ID(payment.id),
            amount=MoneyType.of(payment.amount, payment.currency),
            method=payment.method,
            scheduled_date=payment.scheduled_date,
            status=payment.status,
            remittance_ref=payment.remittance_ref,
            supplier_id=payment.supplier_id,
        )

    supplier: SupplierType | None = strawberry.field(
        resolver=supplier_of, description="The supplier paid."
    )

    @strawberry.field(
        description="The invoices this payment settles that the caller may see: allocations "
        "to invoices of facilities (or suppliers) outside the caller's reach are left out, "
        "while `amount` stays the whole payment's."
    )
    async def allocations(self, info: Info) -> list[PaymentAllocationType]:
        found = await info.context.loaders.allocations_of_payment.load(str(self.id))
        return [PaymentAllocationType.from_domain(a, self.amount.currency) for a in found]


@strawberry.type(name="PaymentConnection", description="A page of payments.")
class PaymentConnection(Connection[PaymentType]):
    pass


@strawberry.input(name="PaymentFilter", description="Every given criterion must hold.")
class PaymentFilterInput:
    status: list[PaymentStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    supplier_id: strawberry.ID | None = strawberry.field(default=None, description="SUP-… ID.")
    scheduled: DateRangeInput | None = strawberry.field(
        default=None, description="Pay date within this range (inclusive)."
    )
