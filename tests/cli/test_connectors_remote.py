"""`apgraph connectors check --url` and `apgraph connectors reset`: they act on the running
server's own breakers (a fresh in-process copy would report new, closed ones), through the
admin-only `resetConnectorBreakers` mutation."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from typer.testing import CliRunner

from apgraph.cli.main import app as cli
from apgraph.domain.principal import Role
from apgraph.domain.systems import ExternalSystem
from apgraph.gateway.app import create_app
from apgraph.gateway.runtime import Runtime
from apgraph.policies.loader import load_gateway_config
from apgraph.services.ports.connectors import BreakerState
from tests.conftest import Api, settings_for
from tests.live_server import serving

RESET = "mutation { resetConnectorBreakers(system: MATERIALS) { connectors { system breaker } } }"


@dataclass
class Running:
    base: str
    runtime: Runtime
    data_dir: str

    def trip(self, system: ExternalSystem) -> None:
        """Opens the system's breaker as failed calls do (its threshold of failures)."""
        probe = next(p for p in self.runtime.connectors.probes if p.system is system)
        breaker = probe.endpoint.breaker  # type: ignore[attr-defined]
        for _ in range(self.runtime.config.connectors.resilience.breaker_failures):
            breaker.failed()

    def breaker(self, system: ExternalSystem) -> BreakerState:
        return next(p for p in self.runtime.connectors.probes if p.system is system).stats().breaker


@pytest.fixture
async def running(seeded_database, tmp_path) -> AsyncIterator[Running]:
    settings = settings_for(seeded_database, tmp_path / "data")
    config = load_gateway_config(settings.gateway_config)
    runtime = Runtime.open(settings, config)
    try:
        with serving(create_app(settings, config, runtime=runtime)) as base:
            yield Running(base, runtime, str(settings.data_dir))
    finally:
        await runtime.close()


def apgraph(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def rows(output: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in output.strip().splitlines()[1:]}


def test_check_with_url_reports_the_running_servers_open_breaker(running):
    running.trip(ExternalSystem.MATERIALS)

    remote = apgraph("connectors", "check", "--url", running.base, "--data-dir", running.data_dir)
    fresh = apgraph(
        "connectors", "check", "--gateway-config", str(running.runtime.settings.gateway_config)
    )

    assert remote.exit_code == 0, remote.output
    assert rows(remote.output)["materials"][3] == "OPEN"
    assert rows(remote.output)["legacy_erp"][3] == "CLOSED"
    # a fresh in-process copy knows nothing of it: why --url exists
    assert rows(fresh.output)["materials"][3] == "CLOSED"


def test_reset_closes_one_systems_breaker_on_the_running_server(running):
    running.trip(ExternalSystem.MATERIALS)
    running.trip(ExternalSystem.SOURCING)

    result = apgraph(
        "connectors", "reset", "materials", "--url", running.base, "--data-dir", running.data_dir
    )

    assert result.exit_code == 0, result.output
    assert list(rows(result.output)) == ["materials"]
    assert rows(result.output)["materials"][3] == "CLOSED"
    assert running.breaker(ExternalSystem.MATERIALS) is BreakerState.CLOSED
    assert running.breaker(ExternalSystem.SOURCING) is BreakerState.OPEN  # not asked


def test_reset_without_a_system_closes_every_breaker(running):
    running.trip(ExternalSystem.LEGACY_ERP)
    running.trip(ExternalSystem.ANALYTICS)

    result = apgraph("connectors", "reset", "--url", running.base, "--data-dir", running.data_dir)

    assert result.exit_code == 0, result.output
    assert len(rows(result.output)) == 5
    assert {row[3] for row in rows(result.output).values()} == {"CLOSED"}


async def test_only_operators_may_reset_a_breaker(running):
    running.trip(ExternalSystem.MATERIALS)

    async with httpx.AsyncClient(base_url=running.base) as client:
        api = Api(client, "sqlite", running.runtime.issuer, running.runtime.settings)
        for token in (
            api.token(Role.AP_CLERK),
            api.token(Role.APPROVER, facility_ids=["FAC-0001"]),
            api.token(Role.AUDITOR),
            None,
        ):
            response = await client.post(
                "/graphql", json={"query": RESET}, headers=api.headers(token)
            )
            body = response.json()
            assert body.get("data") is None, body
            # operators only: refused at /graphql's door (no product's view has the mutation)
            expected = "UNAUTHENTICATED" if token is None else "OPERATORS_ONLY"
            assert body["errors"][0]["extensions"]["code"] == expected

        # the finance admin holds `admin`
        reset = await api.data(RESET)
    assert reset["resetConnectorBreakers"]["connectors"] == [
        {"system": "MATERIALS", "breaker": "CLOSED"}
    ]
    assert running.breaker(ExternalSystem.MATERIALS) is BreakerState.CLOSED


def test_reset_with_a_token_that_may_not_is_one_line_and_exit_1(running):
    result = apgraph("connectors", "reset", "--url", running.base, "--token", "not-a-token")

    assert result.exit_code == 1
    assert result.output.strip().startswith(f"apgraph: {running.base}/graphql: UNAUTHENTICATED")
