"""ErpPosting and SupplierMaster for the facilities gateway.yaml routes to the cloud ERP."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from apgraph.connectors.cloud_erp import mapping
from apgraph.connectors.cloud_erp.client import CloudErpClient
from apgraph.connectors.ledger import post_once
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
class CloudErpAdapter:
    client: CloudErpClient
    xrefs: CrossReferences
    ledger: PostingLedger
    clock: Clock

    @property
    def system(self) -> ExternalSystem:
        return ExternalSystem.CLOUD_ERP

    async def post_invoice(self, invoice: Invoice, *, idempotency_key: str) -> ErpDocumentRef:
        supplier_number = await self._supplier_number(invoice.supplier_id)
        payload = mapping.invoice_to_vendor(invoice, supplier_number=supplier_number)

        async def post(look_up_first: bool) -> ErpDocumentRef:
            body = await self.client.post(
                mapping.INVOICES,
                payload,
                idempotency_key=idempotency_key,
                lookup=(mapping.INVOICES, mapping.lookup_query(idempotency_key)),
                answered=mapping.found_invoice,
                outcome_unknown=look_up_first,
            )
            return mapping.document_from_vendor(body)

        return await post_once(
            self.ledger,
            self.clock,
            system=ExternalSystem.CLOUD_ERP,
            invoice=invoice,
            idempotency_key=idempotency_key,
            post=post,
        )

    async def find_posting(
        self, invoice: Invoice, *, idempotency_key: str
    ) -> ErpDocumentRef | None:
        body = await self.client.get(mapping.INVOICES, params=mapping.lookup_query(idempotency_key))
        found = mapping.found_invoice(body)
        return None if found is None else mapping.document_from_vendor(found)

    async def payment_of(self, document: ErpDocumentRef) -> PaymentRelease | None:
        body = await self.client.get(mapping.payments_path(document.document_number))
        releases = mapping.payments_from_vendor(body)
        return releases[-1] if releases else None

    async def payment_releases(self, *, since: date) -> Sequence[PaymentRelease]:
        body = await self.client.get(
            mapping.PAYMENTS, params=mapping.payments_query(since.isoformat())
        )
        return mapping.payments_from_vendor(body)

    async def release_payment(
        self, payment: Payment, lines: Sequence[PaymentOrderLine], *, idempotency_key: str
    ) -> PaymentConfirmation:
        supplier_number = await self._supplier_number(payment.supplier_id)
        payload = mapping.payment_order_to_vendor(payment, lines, supplier_number=supplier_number)
        body = await self.client.post(
            mapping.PAYMENT_ORDERS,
            payload,
            idempotency_key=idempotency_key,
            lookup=(mapping.PAYMENT_ORDERS, mapping.lookup_query(idempotency_key)),
            answered=mapping.found_order,
            outcome_unknown=False,
        )
        return mapping.confirmation_from_vendor(body)

    async def payment_confirmation(self, reference: str) -> PaymentConfirmation:
        return mapping.confirmation_from_vendor(
            await self.client.get(mapping.payment_order_path(reference))
        )

    async def vendors(self) -> Sequence[ErpVendor]:
        """Every supplier, page by page."""
        found: list[ErpVendor] = []
        while True:
            body = await self.client.get(
                mapping.SUPPLIERS, params=mapping.suppliers_query(len(found))
            )
            page, has_more = mapping.suppliers_from_vendor(body)
            found.extend(page)
            if not has_more or not page:
                return found

    async def _supplier_number(self, supplier_id: SupplierId) -> str:
        number = await self.xrefs.vendor_key(ExternalSystem.CLOUD_ERP, supplier_id)
        if number is None:
            raise ConnectorRejected(
                ExternalSystem.CLOUD_ERP,
                f"{supplier_id} has no supplier in the cloud ERP yet (run the supplier sync)",
                code=ConnectorCode.ERP_SUPPLIER_NOT_LINKED,
            )
        return number
