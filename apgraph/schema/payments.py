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
    amount: MoneyType
    invoice_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, allocation: PaymentAllocation, currency: str) -> Self:
        return cls(
            amount=MoneyType.of(allocation.amount, currency), invoice_id=allocation.invoice_id
        )

    @strawberry.field
    async def invoice(
        self, info: Info
    ) -> Annotated["InvoiceType", strawberry.lazy("apgraph.schema.invoices")] | None:
        from apgraph.schema.invoices import InvoiceType

        found = await info.context.loaders.invoices.load(self.invoice_id)
        return InvoiceType.from_domain(found) if found else None


@strawberry.type(name="Payment", description="Money released to a supplier.")
class PaymentType(Node):
    id: strawberry.ID
    amount: MoneyType
    method: PaymentMethod
    scheduled_date: datetime.date
    status: PaymentStatus
    remittance_ref: str | None
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

    supplier: SupplierType | None = strawberry.field(resolver=supplier_of)

    @strawberry.field(description="The invoices this payment settles.")
    async def allocations(self, info: Info) -> list[PaymentAllocationType]:
        found = await info.context.loaders.allocations_of_payment.load(str(self.id))
        return [PaymentAllocationType.from_domain(a, self.amount.currency) for a in found]


@strawberry.type(name="PaymentConnection")
class PaymentConnection(Connection[PaymentType]):
    pass


@strawberry.input(name="PaymentFilter")
class PaymentFilterInput:
    status: list[PaymentStatus] | None = None
    supplier_id: strawberry.ID | None = None
    scheduled: DateRangeInput | None = None
