"""What the connector tests share: a fast resilience policy, the client stack over loopback,
fresh invoices to post, and a sleep that records instead of waiting."""

import itertools
import uuid
from dataclasses import dataclass, replace

import httpx

from apgraph.connectors.analytics.adapter import AnalyticsAdapter
from apgraph.connectors.analytics.client import analytics_client
from apgraph.connectors.cloud_erp.adapter import CloudErpAdapter
from apgraph.connectors.cloud_erp.client import CloudErpClient
from apgraph.connectors.legacy_erp.adapter import LegacyErpAdapter
from apgraph.connectors.legacy_erp.client import LegacyErpClient
from apgraph.connectors.materials.adapter import MaterialsAdapter
from apgraph.connectors.materials.client import materials_client
from apgraph.connectors.resilience import Endpoint, ResiliencePolicy
from apgraph.connectors.sourcing.adapter import SourcingAdapter
from apgraph.connectors.sourcing.client import sourcing_client
from apgraph.demo import generator
from apgraph.domain.ids import EntityKind, FacilityId, InvoiceId, numbered
from apgraph.domain.invoices import Invoice
from apgraph.domain.suppliers import SupplierStatus
from apgraph.domain.systems import ExternalSystem
from apgraph.gateway.runtime import SystemClock
from apgraph.simulators.suite import PREFIXES, Simulators
from apgraph.store.connector_state import SqlCrossReferences, SqlPostingLedger

CLIENT_ID = "apgraph"
CLIENT_SECRET = "test-secret"  # what the loopback cloud ERP simulator accepts

# Deadline 1.5 s per attempt; faults that hang use 3 s, so each one times out exactly once.
# (A 0.45 s deadline was missed by plain calls on a loaded machine, the simulators sharing
# the test's process, and an unplanned retry changed the counts the tests assert.)
FAST = ResiliencePolicy(
    connect_timeout=0.5,
    read_timeout=1.0,
    attempts=3,
    backoff_initial=0.01,
    backoff_max=0.02,
    retry_after_max=5,
    breaker_failures=5,
    breaker_cooldown=30,
)
HANG = 3.0

CLOCK = SystemClock()


class RecordedSleeps:
    """Tenacity's sleep: notes each wait and returns at once, so back-off costs no time."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@dataclass
class Served:
    simulators: Simulators
    base: str

    def url(self, system: ExternalSystem) -> str:
        return f"{self.base}{PREFIXES[system.value]}/"


@dataclass
class Stack:
    legacy: LegacyErpAdapter
    cloud: CloudErpAdapter
    materials: MaterialsAdapter
    sourcing: SourcingAdapter
    analytics: AnalyticsAdapter
    endpoints: dict[ExternalSystem, Endpoint]
    ledger: SqlPostingLedger
    sleeps: RecordedSleeps
    clients: list[object]

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()  # type: ignore[attr-defined]


def build_stack(
    served: Served,
    engine,
    *,
    policy: ResiliencePolicy = FAST,
    clock=None,
    client_secret: str = CLIENT_SECRET,
    batch_size: int = 2,
) -> Stack:
    """Every adapter over real HTTP to the loopback simulators, each with a fresh endpoint."""
    sleeps = RecordedSleeps()

    def endpoint(system: ExternalSystem) -> Endpoint:
        extra = {"clock": clock} if clock is not None else {}
        return Endpoint(system, policy, address=served.url(system), sleep=sleeps, **extra)

    def http(system: ExternalSystem) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=served.url(system), timeout=policy.http_timeout())

    endpoints = {system: endpoint(system) for system in ExternalSystem}
    legacy = LegacyErpClient(http(ExternalSystem.LEGACY_ERP), endpoints[ExternalSystem.LEGACY_ERP])
    cloud_url = served.url(ExternalSystem.CLOUD_ERP)
    cloud = CloudErpClient.connect(
        endpoints[ExternalSystem.CLOUD_ERP],
        base_url=cloud_url,
        token_url=f"{cloud_url}oauth2/token",
        client_id=CLIENT_ID,
        client_secret=client_secret,
    )
    materials = materials_client(
        http(ExternalSystem.MATERIALS), endpoints[ExternalSystem.MATERIALS]
    )
    sourcing = sourcing_client(http(ExternalSystem.SOURCING), endpoints[ExternalSystem.SOURCING])
    analytics = analytics_client(
        http(ExternalSystem.ANALYTICS), endpoints[ExternalSystem.ANALYTICS]
    )
    xrefs, ledger = SqlCrossReferences(engine), SqlPostingLedger(engine)
    return Stack(
        legacy=LegacyErpAdapter(legacy, xrefs, ledger, CLOCK),
        cloud=CloudErpAdapter(cloud, xrefs, ledger, CLOCK),
        materials=MaterialsAdapter(materials),
        sourcing=SourcingAdapter(sourcing),
        analytics=AnalyticsAdapter(analytics, batch_size=batch_size),
        endpoints=endpoints,
        ledger=ledger,
        sleeps=sleeps,
        clients=[legacy, cloud, materials, sourcing, analytics],
    )


_numbers = itertools.count(90_000_000)


def fresh_invoice(network: generator.DemoNetwork, *, facility: str = "FAC-0001") -> Invoice:
    """A new invoice of an active supplier, with an ID and invoice number no ERP has seen."""
    active = {s.id for s in network.suppliers if s.status is SupplierStatus.ACTIVE}
    template = next(i for i in network.invoices if i.supplier_id in active)
    return replace(
        template,
        id=InvoiceId(numbered(EntityKind.INVOICE, next(_numbers))),
        supplier_invoice_number=f"T-{uuid.uuid4().hex[:10]}",
        facility_id=FacilityId(facility),
        cost_center_id=template.cost_center_id,
        erp_document_ref=None,
    )


def new_key() -> str:
    return f"post-{uuid.uuid4()}"
