"""The connectors of one server, built from gateway.yaml and settings (the composition root).

`connectors.mode: simulated` builds the five simulators in-process, seeded from the demo
network of `APGRAPH_DEMO_SCALE`, and talks to them through httpx's ASGI transport: the full
client stack (HTTP, SOAP, OAuth2, resilience) with no port to open. The cloud ERP simulator
then accepts APGRAPH_CLOUD_ERP_CLIENT_SECRET, or a secret made up at start when that is unset.
`remote` calls each base_url and needs the secret set.
"""

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import httpx
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.connectors.analytics.adapter import AnalyticsAdapter
from apgraph.connectors.analytics.client import analytics_client
from apgraph.connectors.cloud_erp.adapter import CloudErpAdapter
from apgraph.connectors.cloud_erp.client import CloudErpClient
from apgraph.connectors.legacy_erp.adapter import LegacyErpAdapter
from apgraph.connectors.legacy_erp.client import LegacyErpClient
from apgraph.connectors.materials.adapter import MaterialsAdapter
from apgraph.connectors.materials.client import materials_client
from apgraph.connectors.probes import Probe
from apgraph.connectors.resilience import Endpoint, ResiliencePolicy
from apgraph.connectors.routing import ErpRouter, FacilityRoutes
from apgraph.connectors.sourcing.adapter import SourcingAdapter
from apgraph.connectors.sourcing.client import sourcing_client
from apgraph.demo import generator
from apgraph.domain.ids import FacilityId
from apgraph.domain.principal import RowScope
from apgraph.domain.systems import ExternalSystem
from apgraph.observability import tracing
from apgraph.policies.connectors import ConnectorsConfig, EndpointMode
from apgraph.policies.gateway import GatewayConfig
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.connectors import ConnectorError, ConnectorProbe, MigrationDifferenceLog
from apgraph.services.ports.master_data import MasterDataSink
from apgraph.services.supplier_sync import SyncReport, sync_vendor_links
from apgraph.settings import Settings
from apgraph.simulators import suite
from apgraph.simulators.suite import Simulators
from apgraph.store.connector_state import (
    SqlCrossReferences,
    SqlMigrationDifferences,
    SqlPostingLedger,
)
from apgraph.store.keyring import Keyring
from apgraph.store.master_data_io import read_bundle, stored_routes
from apgraph.store.suppliers import SupplierRepository

log = logging.getLogger("apgraph.connectors")

IN_PROCESS = "in-process"
SIMULATOR_PATHS = suite.PREFIXES  # where `apgraph simulators serve` puts each system
_SIMULATOR_HOST = "http://simulators"


class ConnectorSetupError(Exception):
    """The connectors cannot be built as configured; the message says what to set."""


@dataclass(frozen=True, slots=True)
class Connectors:
    erp: ErpRouter  # what services post through: routing and shadow mode included
    legacy_erp: LegacyErpAdapter
    cloud_erp: CloudErpAdapter
    goods_receipts: MaterialsAdapter
    contract_prices: SourcingAdapter
    analytics: AnalyticsAdapter
    probes: Sequence[ConnectorProbe]
    migration_differences: MigrationDifferenceLog
    simulators: Simulators | None  # the in-process ones, in simulated mode
    clock: Clock
    _closers: Sequence[Callable[[], Awaitable[None]]]
    routes: FacilityRoutes  # the router's: gateway.yaml's overrides, then the stored routes

    @property
    def erp_payments(self) -> ErpRouter:
        """Payments go through the same router as postings: each to its facility's ERP."""
        return self.erp

    @property
    def master_data_sinks(self) -> list[MasterDataSink]:
        """What an import tells once it committed: the routes, and the simulators' books."""
        sinks: list[MasterDataSink] = [self.routes]
        if self.simulators is not None:
            sinks.append(self.simulators)
        return sinks

    async def load_stored_master_data(self, engine: AsyncEngine, keyring: Keyring) -> None:
        """Routes each stored facility by its columns; in simulated mode, also loads what the
        database holds into the simulators' books (an import made while no server ran), after
        the demo network they start from. Run once the database is reachable, before the
        supplier sync."""
        self.routes.replace_stored(await stored_routes(engine))
        if self.simulators is not None:
            await self.simulators.load(await read_bundle(engine, keyring, skip_unreadable=True))

    async def ready_to_post(self, engine: AsyncEngine, keyring: Keyring) -> None:
        """What a process that posts or pays does first, as `serve` does: route each stored
        facility, and with the in-process simulators (the demo posts out of the box) link the
        suppliers to their ERP vendors."""
        await self.load_stored_master_data(engine, keyring)
        if self.simulators is not None:
            await self.link_suppliers(engine, keyring)

    async def link_suppliers(self, engine: AsyncEngine, keyring: Keyring) -> list[SyncReport]:
        """Runs the vendor ⇄ supplier sync against both ERPs; a failing ERP is logged, and
        its postings wait for the next sync (`apgraph connectors sync-suppliers`)."""
        reports = []
        for master in (self.legacy_erp, self.cloud_erp):
            try:
                report = await sync_vendor_links(
                    master=master,
                    suppliers=SupplierRepository(engine, RowScope(), keyring),
                    xrefs=SqlCrossReferences(engine),
                    clock=self.clock,
                )
            except ConnectorError as error:
                log.warning(
                    "supplier sync with the %s ERP failed: %s", master.system.erp_name, error
                )
                continue
            except IntegrityError:  # another worker linked the same vendors at the same moment
                log.info(
                    "supplier sync with the %s ERP: done by another worker", master.system.erp_name
                )
                continue
            reports.append(report)
        return reports

    async def aclose(self) -> None:
        for close in self._closers:
            await close()


def check_connector_settings(settings: Settings, config: ConnectorsConfig) -> None:
    if config.mode is EndpointMode.REMOTE and not settings.cloud_erp_client_secret:
        raise ConnectorSetupError(
            "gateway.yaml: connectors.mode is remote, so APGRAPH_CLOUD_ERP_CLIENT_SECRET "
            "must hold the cloud ERP's OAuth2 client secret"
        )


def build_connectors(
    settings: Settings,
    config: GatewayConfig,
    engine: AsyncEngine,
    *,
    clock: Clock,
    tracer_provider: TracerProvider | None = None,
) -> Connectors:
    """`tracer_provider`: each connector call gets a client span and sends a traceparent, and
    the in-process simulators continue the trace."""
    section = config.connectors
    check_connector_settings(settings, section)
    policy = _policy(section)
    simulators: Simulators | None = None
    transport: httpx.AsyncBaseTransport | None = None
    secret = settings.cloud_erp_client_secret or ""
    if section.mode is EndpointMode.SIMULATED:
        secret = secret or secrets.token_urlsafe(24)
        network = _demo_network(settings.demo_scale)
        simulators = suite.create(
            network, cloud_client_id=section.cloud_erp.client_id, cloud_client_secret=secret
        )
        if tracer_provider is not None:
            tracing.instrument_app(simulators.app, tracer_provider)
        transport = httpx.ASGITransport(app=simulators.app)

    def base_url(system: ExternalSystem, configured: str) -> str:
        if transport is None:
            return configured
        return f"{_SIMULATOR_HOST}{suite.PREFIXES[system.value]}/"

    def endpoint(system: ExternalSystem, configured: str) -> Endpoint:
        address = IN_PROCESS if transport is not None else configured
        return Endpoint(system, policy, address=address)

    def traced() -> httpx.AsyncBaseTransport | None:
        """One per client: a remote system's connection pool is its client's own."""
        return tracing.traced_transport(transport, tracer_provider)

    def http(system: ExternalSystem, configured: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=base_url(system, configured),
            timeout=policy.http_timeout(),
            transport=traced(),
        )

    legacy_url = str(section.legacy_erp.base_url)
    cloud_url = str(section.cloud_erp.base_url)
    materials_url = str(section.materials.base_url)
    sourcing_url = str(section.sourcing.base_url)
    analytics_url = str(section.analytics.base_url)

    legacy_client = LegacyErpClient(
        http(ExternalSystem.LEGACY_ERP, legacy_url),
        endpoint(ExternalSystem.LEGACY_ERP, legacy_url),
    )
    token_url = str(section.cloud_erp.token_url)
    if transport is not None:
        token_url = f"{base_url(ExternalSystem.CLOUD_ERP, cloud_url)}oauth2/token"
    cloud_client = CloudErpClient.connect(
        endpoint(ExternalSystem.CLOUD_ERP, cloud_url),
        base_url=base_url(ExternalSystem.CLOUD_ERP, cloud_url),
        token_url=token_url,
        client_id=section.cloud_erp.client_id,
        client_secret=secret,
        transport=traced(),
    )
    materials = materials_client(
        http(ExternalSystem.MATERIALS, materials_url),
        endpoint(ExternalSystem.MATERIALS, materials_url),
    )
    sourcing = sourcing_client(
        http(ExternalSystem.SOURCING, sourcing_url),
        endpoint(ExternalSystem.SOURCING, sourcing_url),
    )
    analytics = analytics_client(
        http(ExternalSystem.ANALYTICS, analytics_url),
        endpoint(ExternalSystem.ANALYTICS, analytics_url),
    )

    xrefs = SqlCrossReferences(engine)
    ledger = SqlPostingLedger(engine)
    differences = SqlMigrationDifferences(engine)
    legacy = LegacyErpAdapter(legacy_client, xrefs, ledger, clock)
    cloud = CloudErpAdapter(cloud_client, xrefs, ledger, clock)
    routes = FacilityRoutes(
        overrides={FacilityId(f): routing.route for f, routing in config.facilities.items()}
    )
    router = ErpRouter(
        routes=routes,
        erps={ExternalSystem.LEGACY_ERP: legacy, ExternalSystem.CLOUD_ERP: cloud},
        differences=differences,
        clock=clock,
    )
    return Connectors(
        erp=router,
        legacy_erp=legacy,
        cloud_erp=cloud,
        goods_receipts=MaterialsAdapter(materials),
        contract_prices=SourcingAdapter(sourcing),
        analytics=AnalyticsAdapter(analytics, batch_size=section.analytics.batch_size),
        probes=(
            Probe(legacy_client.endpoint, legacy_client.ping),
            Probe(cloud_client.endpoint, cloud_client.ping),
            Probe(materials.endpoint, materials.ping),
            Probe(sourcing.endpoint, sourcing.ping),
            Probe(analytics.endpoint, analytics.ping),
        ),
        migration_differences=differences,
        simulators=simulators,
        clock=clock,
        _closers=(
            legacy_client.aclose,
            cloud_client.aclose,
            materials.aclose,
            sourcing.aclose,
            analytics.aclose,
        ),
        routes=routes,
    )


def _policy(section: ConnectorsConfig) -> ResiliencePolicy:
    r = section.resilience
    return ResiliencePolicy(
        connect_timeout=r.connect_timeout,
        read_timeout=r.read_timeout,
        attempts=r.attempts,
        backoff_initial=r.backoff_initial,
        backoff_max=r.backoff_max,
        retry_after_max=r.retry_after_max,
        breaker_failures=r.breaker_failures,
        breaker_cooldown=r.breaker_cooldown,
    )


@lru_cache(maxsize=2)
def _demo_network(scale: float) -> generator.DemoNetwork:
    """The simulators' books: generating is pure, so one network serves every runtime."""
    return generator.generate(generator.DemoSize().scaled(scale))


def standalone_simulators(
    settings: Settings,
    config: GatewayConfig,
    *,
    network: generator.DemoNetwork | None = None,
    tracer_provider: TracerProvider | None = None,
) -> tuple[Simulators, str]:
    """The simulators for `apgraph simulators serve`, and the cloud ERP secret they accept
    (APGRAPH_CLOUD_ERP_CLIENT_SECRET, or one made up now). Their books start from `network`,
    by default the demo network. They continue the callers' traces (into `tracer_provider`,
    else one the settings describe)."""
    secret = settings.cloud_erp_client_secret or secrets.token_urlsafe(24)
    simulators = suite.create(
        network if network is not None else _demo_network(settings.demo_scale),
        cloud_client_id=config.connectors.cloud_erp.client_id,
        cloud_client_secret=secret,
    )
    if tracer_provider is None:  # as the server's: APGRAPH_TRACING and the OTEL_* variables
        tracer_provider = tracing.tracer_provider(
            enabled=settings.tracing == "on",
            export=bool(settings.otel_exporter_otlp_endpoint),
            service=tracing.SIMULATORS_SERVICE,
        )
    if tracer_provider is not None:
        tracing.instrument_app(simulators.app, tracer_provider)
    return simulators, secret
