"""Payments released to suppliers, and the invoices each one settles."""

import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from apgraph.domain.payments import Payment, PaymentAllocation
from apgraph.schema.batched import batched
from apgraph.schema.context import Info
from apgraph.schema.dates import DateRangeInput
from apgraph.schema.enums import (
    HoldCode,
    PaymentExceptionCode,
    PaymentMethod,
    PaymentStatus,
    RemittanceFormat,
)
from apgraph.schema.facilities import FacilityType
from apgraph.schema.money import MoneyType
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection
from apgraph.schema.relations import SUPPLIER, supplier_of
from apgraph.schema.suppliers import SupplierType
from apgraph.services.ports.reads import RemittanceDocumentInfo

if TYPE_CHECKING:
    from apgraph.schema.invoices import InvoiceType
    from apgraph.schema.payment_runs import PaymentRunType


@strawberry.type(name="PaymentAllocation", description="The part of a payment for one invoice.")
class PaymentAllocationType:
    amount: MoneyType = strawberry.field(
        description="Paid for the invoice: its total less the discount."
    )
    discount: MoneyType = strawberry.field(
        description="The early-payment discount taken off the invoice's total (0 when none)."
    )
    invoice_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, allocation: PaymentAllocation, currency: str) -> Self:
        return cls(
            amount=MoneyType.of(allocation.amount, currency),
            discount=MoneyType.of(allocation.discount, currency),
            invoice_id=allocation.invoice_id,
        )

    @strawberry.field(description="The invoice settled; null if the caller may not see it.")
    async def invoice(
        self, info: Info
    ) -> Annotated["InvoiceType", strawberry.lazy("apgraph.schema.invoices")] | None:
        from apgraph.schema.invoices import InvoiceType

        found = await info.context.loaders.invoices.load(self.invoice_id)
        return InvoiceType.from_domain(found) if found else None


@strawberry.type(name="RemittanceDocument", description="A remittance advice in one format.")
class RemittanceDocumentType:
    id: strawberry.ID = strawberry.field(description="RA-…: what the content URL names.")
    format: RemittanceFormat = strawberry.field(description="PDF, CSV or X12 820.")
    filename: str = strawberry.field(description="A name to save it under.")
    media_type: str = strawberry.field(description="The content's media type.")
    size: int = strawberry.field(description="In bytes.")
    sha256: str = strawberry.field(description="Of the content, hex.")
    url: str = strawberry.field(
        description="Where to GET the content, with the caller's bearer token."
    )

    @classmethod
    def from_info(cls, info: RemittanceDocumentInfo) -> Self:
        return cls(
            id=strawberry.ID(info.id),
            format=info.format,
            filename=info.filename,
            media_type=info.media_type,
            size=info.size,
            sha256=info.sha256,
            url=f"/attachments/{info.id}/content",
        )


@strawberry.type(
    name="Payment",
    description=(
        "Money paid to a supplier for one or more posted invoices of one facility, on one pay "
        "date: scheduled, released to the facility's ERP in a payment run, then paid."
    ),
)
class PaymentType(Node):
    id: strawberry.ID = strawberry.field(description="Canonical ID, PAY-00000001.")
    amount: MoneyType = strawberry.field(description="The amount paid, all allocations together.")
    method: PaymentMethod = strawberry.field(description="How the money is sent.")
    scheduled_date: datetime.date = strawberry.field(description="The pay date.")
    status: PaymentStatus = strawberry.field(description="Where the payment stands.")
    remittance_ref: str | None = strawberry.field(
        description=(
            "The remittance advice's reference, RA-<payment ID> (e.g. RA-PAY-00000042), set "
            "when the payment is confirmed PAID and carried by its invoices' remittance.sent "
            "events; null until then. Not a bank trace or check number: the ERP's payment "
            "order is erpReference, the advice's files are remittanceDocuments."
        )
    )
    discount: MoneyType = strawberry.field(
        description="Early-payment discounts taken, over all the invoices it settles."
    )
    hold_code: HoldCode | None = strawberry.field(
        description="Why it is kept out of payment runs; null when it is not on hold."
    )
    hold_reason: str | None = strawberry.field(description="The hold, in words.")
    exception_code: PaymentExceptionCode | None = strawberry.field(
        description="Why it failed (FAILED) or waits for a replay (RELEASE_FAILED)."
    )
    erp_reference: str | None = strawberry.field(
        description="The ERP's payment order, once the ERP took it (e.g. LEG-70000001)."
    )
    released_at: datetime.datetime | None = strawberry.field(
        description="When its payment run released it."
    )
    paid_at: datetime.datetime | None = strawberry.field(
        description="When the ERP's confirmation that it was paid was recorded."
    )
    supplier_id: strawberry.Private[str]
    facility_id: strawberry.Private[str | None]
    run_id: strawberry.Private[str | None]

    @classmethod
    def from_domain(cls, payment: Payment) -> Self:
        return cls(
            id=strawberry.ID(payment.id),
            amount=MoneyType.of(payment.amount, payment.currency),
            method=payment.method,
            scheduled_date=payment.scheduled_date,
            status=payment.status,
            remittance_ref=payment.remittance_ref,
            discount=MoneyType.of(payment.discount, payment.currency),
            hold_code=payment.hold_code,
            hold_reason=payment.hold_reason,
            exception_code=payment.exception_code,
            erp_reference=payment.erp_reference,
            released_at=payment.released_at,
            paid_at=payment.paid_at,
            supplier_id=payment.supplier_id,
            facility_id=payment.facility_id,
            run_id=payment.run_id,
        )

    supplier: SupplierType | None = strawberry.field(
        resolver=supplier_of, metadata=batched(SUPPLIER), description="The supplier paid."
    )

    @strawberry.field(description="The facility that pays it; null for payments older than runs.")
    async def facility(self, info: Info) -> FacilityType | None:
        if self.facility_id is None:
            return None
        found = await info.context.loaders.facilities.load(self.facility_id)
        return FacilityType.from_domain(found) if found else None

    @strawberry.field(description="The payment run it is in; null while in none.")
    async def run(
        self, info: Info
    ) -> Annotated["PaymentRunType", strawberry.lazy("apgraph.schema.payment_runs")] | None:
        from apgraph.schema.payment_runs import PaymentRunType

        if self.run_id is None:
            return None
        found = await info.context.loaders.payment_runs.load(self.run_id)
        return PaymentRunType.from_domain(found) if found else None

    @strawberry.field(
        description=(
            "The remittance advice of a paid payment: one document per format (PDF, CSV, "
            "X12 820), each downloadable at its `url` with the caller's token."
        )
    )
    async def remittance_documents(self, info: Info) -> list[RemittanceDocumentType]:
        found = await info.context.loaders.remittance_documents.load(str(self.id))
        return [RemittanceDocumentType.from_info(d) for d in found]

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
    run_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only the payments of this payment run."
    )
    facility_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only the payments this facility pays."
    )


@strawberry.type(
    name="PaymentForecastEntry",
    description="What a supplier will be paid on one date: scheduled and released payments.",
)
class PaymentForecastEntryType:
    pay_date: datetime.date = strawberry.field(description="When these payments go out.")
    amount: MoneyType = strawberry.field(description="What they pay in all, in one currency.")
    payments: int = strawberry.field(description="How many payments make up the amount.")
    held: int = strawberry.field(
        description="Of those, how many are on hold (see Payment.holdReason)."
    )
