"""ErpPosting and SupplierMaster for the facilities gateway.yaml routes to the legacy ERP."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from apgraph.connectors.ledger import post_once
from apgraph.connectors.legacy_erp import mapping
from apgraph.connectors.legacy_erp.client import LegacyErpClient
from apgraph.domain.codes import ConnectorCode
from apgraph.domain.erp import (
    ErpDocumentRef,
    ErpVendor,
    PaymentConfirmation,
    PaymentOrderLine,
    PaymentRelease,
)
from apgraph.domain.ids import SupplierId
from apgraph.domain.invoices import Invoice
from apgraph.domain.payments import Payment
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.connectors import ConnectorRejected, CrossReferences, PostingLedger


@dataclass(frozen=True, slots=True)
class LegacyErpAdapter:
    client: LegacyErpClient
    xrefs: CrossReferences
    ledger: PostingLedger
    clock: Clock

    @property
    def system(self) -> ExternalSystem:
        return ExternalSystem.LEGACY_ERP

    async def post_invoice(self, invoice: Invoice, *, idempotency_key: str) -> ErpDocumentRef:
        vendor_no = await self._vendor_no(invoice.supplier_id)
        request = mapping.post_request(
            invoice, vendor_no=vendor_no, idempotency_key=idempotency_key
        )

        async def post(look_up_first: bool) -> ErpDocumentRef:
            response = await self.client.write(
                request,
                lookup=mapping.find_request(idempotency_key),
                answered=mapping.has_document,
                outcome_unknown=look_up_first,
            )
            return mapping.document_from_vendor(response)

        return await post_once(
            self.ledger,
            self.clock,
            system=ExternalSystem.LEGACY_ERP,
            invoice=invoice,
            idempotency_key=idempotency_key,
            post=post,
        )

    async def find_posting(
        self, invoice: Invoice, *, idempotency_key: str
    ) -> ErpDocumentRef | None:
        response = await self.client.read(mapping.find_request(idempotency_key))
        return mapping.document_from_vendor(response) if mapping.has_document(response) else None

    async def payment_of(self, document: ErpDocumentRef) -> PaymentRelease | None:
        response = await self.client.read(mapping.payment_status_request(document.document_number))
        releases = mapping.payments_from_vendor(response)
        return releases[-1] if releases else None

    async def payment_releases(self, *, since: date) -> Sequence[PaymentRelease]:
        return mapping.payments_from_vendor(await self.client.read(mapping.payments_request(since)))

    async def release_payment(
        self, payment: Payment, lines: Sequence[PaymentOrderLine], *, idempotency_key: str
    ) -> PaymentConfirmation:
        vendor_no = await self._vendor_no(payment.supplier_id)
        response = await self.client.write(
            mapping.release_payment_request(
                payment, lines, vendor_no=vendor_no, idempotency_key=idempotency_key
            ),
            lookup=mapping.find_payment_order_request(idempotency_key),
            answered=mapping.has_payment_order,
            outcome_unknown=False,
        )
        return mapping.confirmation_from_vendor(response)

    async def payment_confirmation(self, reference: str) -> PaymentConfirmation:
        order_no = reference.split("-", 1)[1]
        response = await self.client.read(mapping.payment_order_status_request(order_no))
        return mapping.confirmation_from_vendor(response)

    async def vendors(self) -> Sequence[ErpVendor]:
        return mapping.vendors_from_vendor(await self.client.read(mapping.vendors_request()))

    async def _vendor_no(self, supplier_id: SupplierId) -> str:
        vendor_no = await self.xrefs.vendor_key(ExternalSystem.LEGACY_ERP, supplier_id)
        if vendor_no is None:
            raise ConnectorRejected(
                ExternalSystem.LEGACY_ERP,
                f"{supplier_id} has no vendor in the legacy ERP yet (run the supplier sync)",
                code=ConnectorCode.ERP_SUPPLIER_NOT_LINKED,
            )
        return vendor_no
