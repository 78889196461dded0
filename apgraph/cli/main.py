"""`apgraph serve | db upgrade | seed`, and the commands of the other cli modules."""

import asyncio
import dataclasses
import os
import shlex
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer
import uvicorn

from apgraph.cli import (
    configuration,
    connectors,
    contracts,
    data_keys,
    deadletters,
    events,
    identity,
    master_data,
    operations,
    payments,
    products,
    report,
    retention,
    webhooks,
)
from apgraph.cli.options import (
    DatabaseUrl,
    DataDir,
    GatewayConfigPath,
    fail,
    port_problem,
    settings_from,
)
from apgraph.cli.workers import WorkerOptions, serve_workers, spreads_connections
from apgraph.domain.principal import Role
from apgraph.gateway.graphiql.page import READER_ROLE, is_loopback_host
from apgraph.gateway.key_encryption import open_keyring
from apgraph.gateway.operators_only import product_endpoints
from apgraph.gateway.startup import StartupError, load_config, prepare
from apgraph.observability import logs
from apgraph.policies.products import Lifecycle
from apgraph.settings import Settings, default_data_dir, shipped_gateway_config

app = typer.Typer(help="apgraph: a governed GraphQL API for healthcare accounts payable.")
db_app = typer.Typer(help="Database schema.")
app.add_typer(db_app, name="db")
identity.register(app)
data_keys.register(app)
retention.register(app)
configuration.register(app)
contracts.register(app)
deadletters.register(app)
events.register(app)
connectors.register(app)
master_data.register(app)
operations.register(app)
products.register(app)
report.register(app)
payments.register(app)
webhooks.register(app)


_settings = settings_from
_fail = fail


def _now() -> datetime:
    return datetime.now(UTC)


@app.command()
def serve(
    host: str = typer.Option(None, help="Interface to listen on (default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port to listen on (default 8000)."),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
    policy: Path = typer.Option(
        None,
        "--policy",
        help="Matching policy replacing gateway.yaml's `matching`: a bundle's JSON form (its "
        "`policy`), or the section alone as JSON or YAML.",
    ),
    demo_data: bool = typer.Option(None, "--demo-data/--no-demo-data", help="Seed if empty."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (one per core)."),
) -> None:
    """Migrate, seed demo data into an empty database, and serve the API."""
    settings = _settings(
        announce=False,  # the banner says it, after the checks
        host=host,
        port=port,
        database_url=database_url,
        data_dir=data_dir,
        gateway_config=gateway_config,
        policy_file=policy,
        seed_demo_data=demo_data,
    )
    logs.configure(format=settings.effective_log_format)
    if settings.dev and not is_loopback_host(settings.host):
        _fail(
            f"dev mode serves this machine only (GraphiQL signs in with a demo token); to serve "
            f"{settings.host}, run production: APGRAPH_ENVIRONMENT=production apgraph serve "
            f"--host {settings.host}"
        )
    problem = port_problem(settings.host, settings.port)
    if problem:
        _fail(problem)
    try:
        prepared = asyncio.run(prepare(settings))
    except StartupError as error:
        _fail(str(error))
        return
    if prepared.seeded:
        total = sum(prepared.seeded.values())
        typer.echo(f"apgraph: seeded demo data ({total} rows) into an empty database")

    from apgraph.gateway.app import create_app

    origin = f"http://{settings.host}:{settings.port}"
    operators = prepared.config.internal_schema.scope
    typer.echo(
        f"apgraph: serving on {origin}/graphql"
        + (f" (the internal schema, for the {operators} scope)" if operators else "")
    )
    reader_ides = product_endpoints(prepared.config.products).get(Role(READER_ROLE), [])
    reader_ide = reader_ides[0] if operators and reader_ides else "/graphql"
    products = ", ".join(
        f"{name}/{version}"
        for name, product in prepared.config.products.items()
        for version, declared in product.versions.items()
        if declared.status is not Lifecycle.RETIRED
    )
    typer.echo(
        f"apgraph: API products at {origin}/products/<product>/<version>/graphql: {products}"
    )
    typer.echo(
        f"apgraph: configuration {settings.gateway_config.resolve()}; "
        f"data dir {settings.data_dir.resolve()}"
    )
    if settings.auth_mode == "embedded":
        if settings.dev:
            typer.echo(
                f"apgraph: GraphiQL at {origin}{reader_ide} signs in this machine's browser as "
                "a read-only demo user"
            )
        typer.echo(
            f"apgraph: a token for another role: {command('token', settings)} --role supplier "
            "--supplier SUP-000001 (or ap_clerk | approver --facility FAC-0001 | finance_admin "
            "| auditor)"
        )
    if workers == 1:
        uvicorn.run(
            create_app(settings, prepared.config),
            host=settings.host,
            port=settings.port,
            log_config=None,  # uvicorn's loggers write through ours (logs.configure)
            ws_per_message_deflate=settings.websocket_compression,
        )
        return
    # Workers are separate processes: they rebuild the same settings from the environment,
    # and share one folder for their metrics so that a scrape of any of them counts all.
    os.environ.update(settings.as_environment())
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(fresh_metrics_folder(settings.data_dir))
    if spreads_connections():  # a listening socket per worker: see apgraph/cli/workers.py
        options = WorkerOptions(
            host=settings.host,
            port=settings.port,
            ws_per_message_deflate=settings.websocket_compression,
        )
        raise typer.Exit(serve_workers(options, workers))
    uvicorn.run(
        "apgraph.gateway.app:create_app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=None,
        ws_per_message_deflate=settings.websocket_compression,
    )


def fresh_metrics_folder(data_dir: Path) -> Path:
    """An empty folder for this run's multiprocess metrics (prometheus-client's files)."""
    folder = data_dir / "metrics"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def command(name: str, settings: Settings) -> str:
    """`apgraph NAME` as this process was started, so that it works when pasted: the
    script's own path unless it is the `apgraph` on PATH, else `python -m apgraph`; with
    --data-dir when the server's is not the one every command finds by default."""
    script = Path(sys.argv[0])
    if script.name == "apgraph":
        on_path = shutil.which("apgraph")
        same = on_path is not None and Path(on_path).resolve() == script.resolve()
        program = "apgraph" if same else shlex.quote(str(script.resolve()))
    else:
        program = f"{shlex.quote(sys.executable)} -m apgraph"
    line = f"{program} {name}"
    if settings.data_dir.resolve() != default_data_dir().resolve():
        line += f" --data-dir {shlex.quote(str(settings.data_dir.resolve()))}"
    return line


@app.command()
def init(
    directory: Path = typer.Argument(Path("."), help="Where to write gateway.yaml."),
    force: bool = typer.Option(False, "--force", help="Replace an existing gateway.yaml."),
) -> None:
    """Write the shipped gateway.yaml into DIRECTORY, to edit; serve from there picks it up."""
    target = directory / "gateway.yaml"
    if target.exists() and not force:
        _fail(f"{target.resolve()} already exists; --force replaces it")
    directory.mkdir(parents=True, exist_ok=True)
    target.write_text(shipped_gateway_config().read_text(encoding="utf-8"), encoding="utf-8")
    typer.echo(
        f"apgraph: wrote {target.resolve()}; edit it, then `apgraph serve` in "
        f"{directory.resolve()} uses it (or pass --gateway-config {target.resolve()})"
    )


@db_app.command("upgrade")
def db_upgrade(database_url: str = DatabaseUrl, data_dir: Path = DataDir) -> None:
    """Apply every pending migration."""
    from apgraph.gateway.startup import StartupError

    settings = _settings(database_url=database_url, data_dir=data_dir, seed_demo_data=False)
    try:
        asyncio.run(prepare(settings, serving=False))
    except StartupError as error:
        _fail(str(error))
    typer.echo("apgraph: database is at the latest migration")


@app.command()
def seed(
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    scale: float = typer.Option(1.0, min=0.01, max=20.0, help="Multiplies every size."),
    facilities: int = typer.Option(None, min=2, help="Number of facilities."),
    suppliers: int = typer.Option(None, min=1),
    purchase_orders: int = typer.Option(None, "--purchase-orders", min=1),
    invoices: int = typer.Option(None, min=1),
    random_seed: int = typer.Option(7, "--random-seed", help="Same seed, same network."),
    replace: bool = typer.Option(False, help="Delete all existing data first."),
    as_of: datetime = typer.Option(
        None,
        "--as-of",
        formats=["%Y-%m-%d"],
        help="The day the demo story ends (YYYY-MM-DD; default today): dates count back from "
        "it, by whole weeks. Same seed and day, same network.",
    ),
) -> None:
    """Generate a deterministic demo hospital network into the database."""
    from apgraph.demo import generator
    from apgraph.demo import writer as demo_writer
    from apgraph.store import migrate
    from apgraph.store.database import create_engine

    settings = _settings(database_url=database_url, data_dir=data_dir)
    size = generator.DemoSize().scaled(scale)
    overrides = {
        "facilities": facilities,
        "suppliers": suppliers,
        "purchase_orders": purchase_orders,
        "invoices": invoices,
    }
    size = dataclasses.replace(size, **{k: v for k, v in overrides.items() if v is not None})
    day = as_of.date() if as_of is not None else datetime.now(UTC).date()

    async def run() -> dict[str, int]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
        try:
            await migrate.upgrade(engine)
            keyring = await open_keyring(settings, load_config(settings), engine, now=_now())
            if not await demo_writer.is_empty(engine):
                if not replace:
                    _fail("the database already has data; pass --replace to start over")
                await demo_writer.clear(engine)
            network = generator.generate(size, random_seed=random_seed, as_of=day)
            return await demo_writer.write(engine, network, keyring=keyring)
        finally:
            await engine.dispose()

    try:
        counts = asyncio.run(run())
    except StartupError as error:
        _fail(str(error))
    for table, rows in counts.items():
        typer.echo(f"{table:24} {rows:>8}")
