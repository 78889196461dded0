"""The ErpPosting services use: each facility's postings go where its route says.

A facility's route is the ERP and migration mode stored with it (seeded or imported), unless
gateway.yaml's `facilities` section overrides it.

In shadow mode the legacy ERP stays the system of record and its document is what the caller
gets; the same posting (same idempotency key) is replayed to the cloud ERP, and every field the
two booked differently is recorded for the migration team. A failing shadow never fails the
caller: it is recorded as a difference too. Callers never learn which ERP answered, beyond the
document reference itself.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from apgraph.domain.bundle import MasterDataBundle
from apgraph.domain.codes import ConnectorCode
from apgraph.domain.erp import (
    ErpDocumentRef,
    ErpRoute,
    FieldDifference,
    PaymentConfirmation,
    PaymentOrderLine,
    PaymentRelease,
    compare_postings,
    system_of_reference,
)
from apgraph.domain.ids import FacilityId
from apgraph.domain.invoices import Invoice
from apgraph.domain.payments import Payment
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.connectors import (
    ConnectorError,
    ConnectorRejected,
    ErpPayments,
    ErpPosting,
    MigrationDifference,
    MigrationDifferenceLog,
)

SHADOW_POSTING = "posting"  # the field a failed shadow posting is recorded under


class FacilityRoutes(Mapping[FacilityId, ErpRoute]):
    """Each facility's route: the one stored with it, unless gateway.yaml overrides it.

    Mutable on purpose, and the router keeps this one object: the server reads the stored
    routes once it can reach the database (`replace_stored`), and an import routes the
    facilities it brings as soon as it has committed (`load`), with no restart and no edit
    of gateway.yaml. Each change swaps in a new dict, so a reader never sees half of one.
    """

    def __init__(
        self,
        overrides: Mapping[FacilityId, ErpRoute],
        stored: Mapping[FacilityId, ErpRoute] | None = None,
    ) -> None:
        self._overrides = dict(overrides)
        self._stored = dict(stored or {})
        self._routes = self._stored | self._overrides

    def __getitem__(self, facility_id: FacilityId) -> ErpRoute:
        return self._routes[facility_id]

    def __iter__(self) -> Iterator[FacilityId]:
        return iter(self._routes)

    def __len__(self) -> int:
        return len(self._routes)

    def replace_stored(self, stored: Mapping[FacilityId, ErpRoute]) -> None:
        """The stored routes become exactly `stored`; the overrides still win."""
        self._stored = dict(stored)
        self._routes = self._stored | self._overrides

    async def load(self, bundle: MasterDataBundle) -> None:
        """A MasterDataSink: the routes of an imported bundle's facilities, once committed;
        the other facilities' stay."""
        imported = {entry.facility.id: entry.route for entry in bundle.facilities}
        self.replace_stored(self._stored | imported)


class ErpConnector(ErpPosting, ErpPayments, Protocol):
    """One ERP's adapter: it posts invoices and pays them."""


@dataclass(frozen=True, slots=True)
class ErpRouter:
    routes: Mapping[FacilityId, ErpRoute]
    erps: Mapping[ExternalSystem, ErpConnector]
    differences: MigrationDifferenceLog
    clock: Clock

    async def post_invoice(self, invoice: Invoice, *, idempotency_key: str) -> ErpDocumentRef:
        route = self._route(invoice.facility_id)
        document = await self.erps[route.system_of_record].post_invoice(
            invoice, idempotency_key=idempotency_key
        )
        if route.shadow is not None:
            await self._shadow(route.shadow, invoice, idempotency_key, document)
        return document

    async def find_posting(
        self, invoice: Invoice, *, idempotency_key: str
    ) -> ErpDocumentRef | None:
        erp = self.erps[self._route(invoice.facility_id).system_of_record]
        return await erp.find_posting(invoice, idempotency_key=idempotency_key)

    async def payment_of(self, document: ErpDocumentRef) -> PaymentRelease | None:
        return await self.erps[document.system].payment_of(document)

    async def payment_releases(self, *, since: date) -> Sequence[PaymentRelease]:
        """From every ERP that is some facility's system of record, oldest first."""
        in_use = sorted({route.system_of_record for route in self.routes.values()}, key=str)
        releases = [
            release
            for system in in_use
            for release in await self.erps[system].payment_releases(since=since)
        ]
        return sorted(releases, key=lambda r: (r.released_on, r.system.value, r.payment_reference))

    async def release_payment(
        self, payment: Payment, lines: Sequence[PaymentOrderLine], *, idempotency_key: str
    ) -> PaymentConfirmation:
        """Through the facility's system of record: in shadow mode the legacy ERP pays (the
        cloud ERP is never told to pay too)."""
        if payment.facility_id is None:
            raise ValueError(f"{payment.id} predates payment runs: it has no facility")
        erp = self.erps[self._route(payment.facility_id).system_of_record]
        return await erp.release_payment(payment, lines, idempotency_key=idempotency_key)

    async def payment_confirmation(self, reference: str) -> PaymentConfirmation:
        return await self.erps[system_of_reference(reference)].payment_confirmation(reference)

    async def _shadow(
        self, system: ExternalSystem, invoice: Invoice, idempotency_key: str, legacy: ErpDocumentRef
    ) -> None:
        differences: Sequence[FieldDifference]
        try:
            cloud = await self.erps[system].post_invoice(invoice, idempotency_key=idempotency_key)
        except ConnectorError as error:
            differences = [FieldDifference(SHADOW_POSTING, legacy.reference, error.code.value)]
        else:
            differences = compare_postings(legacy, cloud)
        if differences:
            at = self.clock.now()
            await self.differences.record(
                [
                    MigrationDifference(
                        facility_id=invoice.facility_id,
                        invoice_id=invoice.id,
                        idempotency_key=idempotency_key,
                        difference=difference,
                        recorded_at=at,
                    )
                    for difference in differences
                ]
            )

    def _route(self, facility_id: FacilityId) -> ErpRoute:
        route = self.routes.get(facility_id)
        if route is None:
            raise ConnectorRejected(
                ExternalSystem.LEGACY_ERP,
                f"{facility_id} has no ERP route (none stored with it, none in gateway.yaml)",
                code=ConnectorCode.ERP_ROUTE_UNKNOWN,
            )
        return route
