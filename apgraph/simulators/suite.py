"""All five simulators in one ASGI app, each under its own path: what `apgraph simulators
serve` puts on a port, and what the server mounts in-process when connectors are simulated."""

from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.routing import Mount

from apgraph.demo.generator import DemoNetwork
from apgraph.domain.bundle import MasterDataBundle
from apgraph.simulators import analytics, cloud_erp, legacy_erp, materials, sourcing

# path prefix of each simulator; gateway.yaml's example base URLs use the same
PREFIXES = {
    "legacy_erp": "/legacy-erp",
    "cloud_erp": "/cloud-erp",
    "materials": "/materials",
    "sourcing": "/sourcing",
    "analytics": "/analytics",
}


@dataclass(slots=True)
class Simulators:
    legacy_erp: legacy_erp.LegacyErpSimulator
    cloud_erp: cloud_erp.CloudErpSimulator
    materials: materials.MaterialsSimulator
    sourcing: sourcing.SourcingSimulator
    analytics: analytics.AnalyticsSimulator
    app: Starlette

    async def load(self, bundle: MasterDataBundle) -> None:
        """A MasterDataSink: imported master data joins the books, so the connectors see the
        facts the database holds. The ERPs get the suppliers as vendors, materials management
        the receipts, sourcing the contract prices; POs, facilities and cost centers live in
        no simulated system. Adding is idempotent: loading the same bundle twice changes
        nothing the second time."""
        self.legacy_erp.load(bundle)
        self.cloud_erp.load(bundle)
        self.materials.load(bundle)
        self.sourcing.load(bundle)

    def keep_journals(self, folder: Path) -> dict[str, int]:
        """Both ERPs journal their postings under `folder` and replay what an earlier run
        journaled there; returns how many postings each replayed."""
        return {
            "legacy_erp": self.legacy_erp.book.keep_journal(folder / "legacy-erp.jsonl"),
            "cloud_erp": self.cloud_erp.book.keep_journal(folder / "cloud-erp.jsonl"),
        }

    def reset_faults(self) -> None:
        """Clears every fault and call count (not the books)."""
        for plan in (
            self.legacy_erp.plan,
            self.cloud_erp.plan,
            self.materials.plan,
            self.sourcing.plan,
            self.analytics.plan,
        ):
            plan.clear()


def create(network: DemoNetwork, *, cloud_client_id: str, cloud_client_secret: str) -> Simulators:
    """Each simulator's books seeded from `network`; the cloud ERP accepts only this client."""
    legacy = legacy_erp.create(network)
    cloud = cloud_erp.create(network, client_id=cloud_client_id, client_secret=cloud_client_secret)
    mm = materials.create(network)
    contracts = sourcing.create(network)
    sink = analytics.create()
    app = Starlette(
        routes=[
            Mount(PREFIXES["legacy_erp"], app=legacy.app),
            Mount(PREFIXES["cloud_erp"], app=cloud.app),
            Mount(PREFIXES["materials"], app=mm.app),
            Mount(PREFIXES["sourcing"], app=contracts.app),
            Mount(PREFIXES["analytics"], app=sink.app),
        ]
    )
    return Simulators(
        legacy_erp=legacy,
        cloud_erp=cloud,
        materials=mm,
        sourcing=contracts,
        analytics=sink,
        app=app,
    )
