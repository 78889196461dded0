"""`apgraph connectors check | sync-suppliers` and `apgraph simulators serve`: thin over gateway."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx
import typer
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.cli import remote
from apgraph.cli.options import (
    DatabaseUrl,
    DataDir,
    GatewayConfigPath,
    fail,
    port_problem,
    settings_from,
)
from apgraph.domain.systems import ExternalSystem
from apgraph.gateway.connectors import (
    SIMULATOR_PATHS,
    Connectors,
    build_connectors,
    standalone_simulators,
)
from apgraph.gateway.key_encryption import keyring
from apgraph.gateway.runtime import SystemClock
from apgraph.gateway.simulator_control import (
    MASTER_DATA_PATH,
    empty_network,
    with_master_data_control,
)
from apgraph.gateway.startup import StartupError, load_config
from apgraph.services.bundles import read_bundle_path, write_json
from apgraph.services.connector_health import check_connectors
from apgraph.services.ports.connectors import ConnectorHealth
from apgraph.services.supplier_sync import SyncReport
from apgraph.settings import Settings
from apgraph.store.database import create_engine

T = TypeVar("T")

connectors_app = typer.Typer(help="The external systems: reachability, breakers, vendor links.")
simulators_app = typer.Typer(help="The shipped simulators of the external systems.")


def register(app: typer.Typer) -> None:
    app.add_typer(connectors_app, name="connectors")
    app.add_typer(simulators_app, name="simulators")


STATUS_FIELDS = "system endpoint reachable problem breaker calls attempts failures"
CHECK = f"{{ connectors {{ {STATUS_FIELDS} }} }}"
RESET = (
    "mutation Reset($system: ConnectorSystem) { resetConnectorBreakers(system: $system) "
    f"{{ connectors {{ {STATUS_FIELDS} }} }} }}"
)
ServerUrl = typer.Option(
    None,
    "--url",
    help="A running apgraph server, e.g. http://127.0.0.1:8000: report what it sees (its "
    "breakers and counters) instead of a fresh in-process copy's.",
)
OperatorToken = typer.Option(
    None,
    "--token",
    help="A bearer token with the admin scope; default: a 5-minute operator token signed "
    "with the data dir's keys (embedded mode).",
)


@connectors_app.command("check")
def check(
    gateway_config: Path = GatewayConfigPath,
    url: str = ServerUrl,
    token: str = OperatorToken,
    data_dir: Path = DataDir,
) -> None:
    """Ping every configured system; print reachability and breaker state. Exit 1 if any is down.

    With --url, the running server answers (its breakers, its counters); without it, a fresh
    in-process copy built from gateway.yaml pings (reachability only: its breakers are new).
    """
    if url is not None:
        token = token or remote.operator_token(settings_from(data_dir=data_dir))
        found = remote.ask(url, CHECK, {}, token)["connectors"]
        typer.echo(remote.table(found))
        if not all(row["reachable"] for row in found):
            raise typer.Exit(code=1)
        return
    settings = settings_from(gateway_config=gateway_config)
    found_here = _with_connectors(
        settings, lambda connectors, _: check_connectors(connectors.probes)
    )
    typer.echo(table(found_here))
    if not all(health.reachable for health in found_here):
        raise typer.Exit(code=1)


@connectors_app.command("reset")
def reset(
    system: ExternalSystem = typer.Argument(None, help="The system; default: every one."),
    url: str = typer.Option(
        "http://127.0.0.1:8000", "--url", help="The running apgraph server whose breakers to close."
    ),
    token: str = OperatorToken,
    data_dir: Path = DataDir,
) -> None:
    """Close circuit breakers on a running server now (the system is back), then show them."""
    token = token or remote.operator_token(settings_from(data_dir=data_dir))
    variables = {"system": system.name if system is not None else None}
    answer = remote.ask(url, RESET, variables, token)
    typer.echo(remote.table(answer["resetConnectorBreakers"]["connectors"]))


@connectors_app.command("sync-suppliers")
def sync_suppliers(
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Link each ERP's vendors to canonical suppliers by tax ID (needed before posting)."""
    settings = settings_from(
        database_url=database_url, data_dir=data_dir, gateway_config=gateway_config
    )

    def link(connectors: Connectors, engine: AsyncEngine) -> Awaitable[list[SyncReport]]:
        keys = keyring(settings, load_config(settings), engine)
        return connectors.link_suppliers(engine, keys)

    try:
        reports = _with_connectors(settings, link)
    except StartupError as error:
        fail(str(error))
    for report in reports:
        typer.echo(
            f"{report.system.value:10} linked {report.linked:5}  "
            f"unmatched vendors {len(report.unmatched_vendors):4}  "
            f"ambiguous tax ids {len(report.ambiguous_tax_ids):4}"
        )
    if len(reports) < 2:
        fail("the sync failed for at least one ERP (see the warning above)")


@simulators_app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8100, help="Port for all five simulators, each under its path."),
    scale: float = typer.Option(None, min=0.01, max=20.0, help="Demo network size they hold."),
    gateway_config: Path = GatewayConfigPath,
    journal: Path = typer.Option(
        None,
        "--journal",
        help="Folder where the ERPs journal their postings, replayed on the next start; "
        "without it their books are in memory and a restart forgets them.",
    ),
    empty: bool = typer.Option(
        False,
        "--empty",
        help="Start with empty books instead of the demo network's: they know only what "
        "`apgraph simulators load` teaches them.",
    ),
) -> None:
    """Serve the five simulators on one port, seeded from the demo network (or empty)."""
    settings = settings_from(gateway_config=gateway_config, demo_scale=scale)
    problem = port_problem(host, port)
    if problem:
        fail(problem)
    try:
        config = load_config(settings)
    except StartupError as error:
        fail(str(error))
    simulators, secret = standalone_simulators(
        settings, config, network=empty_network() if empty else None
    )
    if journal is not None:
        try:
            replayed = simulators.keep_journals(journal)
        except (OSError, ValueError, KeyError) as error:
            fail(f"{journal}: the ERP journal cannot be used: {error}")
        typer.echo(f"journal    {journal} (replayed: {replayed})")
    base = f"http://{host}:{port}"
    for system, prefix in SIMULATOR_PATHS.items():
        typer.echo(f"{system:11} {base}{prefix}")
    typer.echo(f"cloud ERP client: {config.connectors.cloud_erp.client_id} / secret: {secret}")
    typer.echo(f'faults: POST {base}/<system>/_control/faults, e.g. {{"kind": "error"}}')
    typer.echo(
        f"master data: POST {base}{MASTER_DATA_PATH} (bundle.json), or "
        f"apgraph simulators load BUNDLE --url {base}" + (" (books start empty)" if empty else "")
    )
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per connector call drowns ours
    uvicorn.run(with_master_data_control(simulators), host=host, port=port, log_level="warning")


@simulators_app.command("load")
def load(
    bundle: Path = typer.Argument(..., help="bundle.json, or a directory of CSV files."),
    url: str = typer.Option(
        "http://127.0.0.1:8100",
        "--url",
        help="Where `apgraph simulators serve` runs; or a dev server's "
        "http://127.0.0.1:8000/simulators (then with --token, admin scope).",
    ),
    token: str = typer.Option(None, "--token", help="A bearer token, for a dev server."),
) -> None:
    """Teach running simulators a master-data bundle: the ERPs learn its suppliers as vendors,
    materials management its receipts, sourcing its contract prices."""
    found, problems = read_bundle_path(bundle)
    if found is None:
        for problem in problems:
            typer.echo(problem.line(), err=True)
        fail(f"{bundle}: {len(problems)} problem(s); nothing was loaded")
    endpoint = url.rstrip("/") + MASTER_DATA_PATH
    headers = {"content-type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        answer = httpx.post(endpoint, content=write_json(found), headers=headers, timeout=120)
    except httpx.HTTPError as error:
        fail(f"{endpoint}: no answer ({error})")
    if answer.status_code != 200:
        fail(f"{endpoint}: HTTP {answer.status_code}: {answer.text[:500]}")
    loaded = answer.json()["loaded"]
    typer.echo(
        "apgraph: the simulators learned "
        + ", ".join(f"{count} {name}" for name, count in loaded.items() if count)
    )


def table(found: list[ConnectorHealth]) -> str:
    return remote.status_table(
        (
            h.stats.system.value,
            h.stats.endpoint,
            h.reachable,
            h.stats.breaker.value,
            h.stats.calls,
            h.stats.failures,
            h.problem,
        )
        for h in found
    )


def _with_connectors(
    settings: Settings, work: Callable[[Connectors, AsyncEngine], Awaitable[T]]
) -> T:
    try:
        config = load_config(settings)
    except StartupError as error:
        fail(str(error))

    async def main() -> T:
        engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
        connectors = build_connectors(settings, config, engine, clock=SystemClock())
        try:
            return await work(connectors, engine)
        finally:
            await connectors.aclose()
            await engine.dispose()

    return asyncio.run(main())
