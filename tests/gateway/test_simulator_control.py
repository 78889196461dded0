"""Embedded dev mode's simulator control over real HTTP: operators drive the in-process
simulators' faults as they would `apgraph simulators serve`'s; nobody else can, production
has no such route, and the simulated systems' own routes are never exposed."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from apgraph.domain.principal import Role
from apgraph.gateway.app import create_app
from apgraph.gateway.runtime import Runtime
from apgraph.policies.loader import load_gateway_config
from apgraph.services.bundles import write_json
from tests.bundles import bundle_of
from tests.conftest import Api, settings_for
from tests.live_server import serving

MATERIALS = "{ connectors { system reachable problem } }"
FAULTS = "/simulators/materials/_control/faults"


@dataclass
class Served:
    api: Api
    runtime: Runtime


async def served_app(database, data_dir, **overrides) -> AsyncIterator[Served]:
    settings = settings_for(database, data_dir, **overrides)
    config = load_gateway_config(settings.gateway_config)
    runtime = Runtime.open(settings, config)
    try:
        with serving(create_app(settings, config, runtime=runtime)) as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                assert runtime.issuer is not None
                yield Served(Api(client, database.backend, runtime.issuer, settings), runtime)
    finally:
        await runtime.close()


@pytest.fixture
async def dev(seeded_database, tmp_path) -> AsyncIterator[Served]:
    async for served in served_app(seeded_database, tmp_path / "data"):
        yield served


def materials(connectors: list[dict]) -> dict:
    return next(c for c in connectors if c["system"] == "MATERIALS")


async def test_an_operator_breaks_and_mends_the_in_process_materials_system(dev):
    api = dev.api
    try:
        # when the finance admin (admin scope) injects an error fault into materials management
        added = await api.client.post(FAULTS, json={"kind": "error"}, headers=api.headers())
        assert added.status_code == 200, added.text
        listed = await api.client.get(FAULTS, headers=api.headers())
        assert [fault["kind"] for fault in listed.json()] == ["error"]

        # then the server's own connectors meet it
        broken = materials((await api.data(MATERIALS))["connectors"])
        assert broken["reachable"] is False
        assert broken["problem"]

        # and clearing it mends them
        cleared = await api.client.delete(FAULTS, headers=api.headers())
        assert cleared.status_code == 200
        assert materials((await api.data(MATERIALS))["connectors"])["reachable"] is True
    finally:
        dev.runtime.connectors.simulators.reset_faults()


async def test_no_one_but_an_operator_may_drive_the_simulators(dev):
    api = dev.api
    for token, status in (
        (None, 401),
        ("forged.token.value", 401),
        (api.token(Role.AP_CLERK), 403),
        (api.token(Role.AUDITOR), 403),
        (api.token(Role.APPROVER, facility_ids=["FAC-0001"]), 403),
        (api.token(Role.SUPPLIER, supplier_id="SUP-000001"), 403),
    ):
        response = await api.client.post(FAULTS, json={"kind": "error"}, headers=api.headers(token))
        assert response.status_code == status, (token, response.text)
    assert dev.runtime.connectors.simulators.materials.plan.faults == []


async def test_only_control_routes_are_offered_not_the_simulated_systems(dev):
    api = dev.api
    for path in (
        "/simulators/materials/api/purchase-orders/PO-2026-000001/receipts",
        "/simulators/legacy-erp/soap",
        "/simulators/materials/_control/../api/health",
    ):
        response = await api.client.get(path, headers=api.headers())
        assert response.status_code == 404, (path, response.text)


async def test_the_in_process_simulators_learn_a_bundle_through_the_control_route(dev, network):
    bundle = bundle_of(network)
    answer = await dev.api.client.post(
        "/simulators/_control/master-data",
        content=write_json(bundle),
        headers={**dev.api.headers(), "content-type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["loaded"]["goods_receipts"] == len(network.goods_receipts)


async def test_production_has_no_simulator_control(seeded_database, tmp_path):
    async for served in served_app(seeded_database, tmp_path / "data", environment="production"):
        api = served.api
        response = await api.client.post(FAULTS, json={"kind": "error"}, headers=api.headers())
        assert response.status_code == 404
        assert served.runtime.connectors.simulators.materials.plan.faults == []
