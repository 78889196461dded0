"""`apgraph keys rotate`, `apgraph clients create|list|revoke`, `apgraph token`,
`apgraph audit verify`: identity and audit for operators, thin over gateway and store.
"""

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.cli.options import DatabaseUrl, DataDir, GatewayConfigPath, fail, settings_from
from apgraph.domain import ids
from apgraph.domain.audit import CHECKPOINT, Break, chain_start, first_break
from apgraph.domain.clients import Client
from apgraph.domain.principal import Role, RowScope
from apgraph.gateway.client_secrets import hash_secret, new_secret
from apgraph.gateway.demo_users import DemoUserError, demo_token
from apgraph.gateway.key_encryption import open_keyring
from apgraph.gateway.keys import SigningKeys
from apgraph.gateway.oauth import client_claims
from apgraph.gateway.runtime import embedded_issuer
from apgraph.gateway.startup import StartupError, load_config
from apgraph.settings import Settings
from apgraph.store import migrate
from apgraph.store.audit import AuditRepository
from apgraph.store.clients import ClientRepository
from apgraph.store.database import create_engine, is_sqlite
from apgraph.store.facilities import FacilityRepository
from apgraph.store.suppliers import stored_supplier_ids

T = TypeVar("T")

keys_app = typer.Typer(
    help="The embedded issuer's signing keys, and the data keys sealing classified columns."
)
clients_app = typer.Typer(help="Partner systems registered for the client-credentials grant.")
audit_app = typer.Typer(help="The hash-chained audit trail.")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(clients_app, name="clients")
    app.add_typer(audit_app, name="audit")
    app.command("token")(token)


def _run(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Runs `work` on a migrated database, then lets the engine go."""

    async def main() -> T:
        if is_sqlite(settings.resolved_database_url):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
        try:
            await migrate.upgrade(engine)
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _now() -> datetime:
    return datetime.now(UTC)


@keys_app.command("rotate")
def rotate_keys(data_dir: Path = DataDir) -> None:
    """Sign with a new key; the old one keeps verifying until its tokens have expired."""
    settings = settings_from(data_dir=data_dir)
    keys = SigningKeys.load_or_create(settings.signing_keys_file)
    lifetime = timedelta(seconds=settings.token_lifetime_seconds)
    new = keys.rotate(now=_now(), token_lifetime=lifetime)
    typer.echo(f"apgraph: now signing with key {new.kid}")
    typer.echo(f"apgraph: {len(keys.keys) - 1} older key(s) keep verifying for up to {lifetime}")


@clients_app.command("create")
def create_client(
    name: str = typer.Option(..., help="Who the client is, e.g. 'Acme procurement platform'."),
    scope: list[str] = typer.Option(..., "--scope", help="A scope it may ask for (repeatable)."),
    facility: list[str] = typer.Option(..., "--facility", help="A facility it sees (repeatable)."),
    product: str = typer.Option("partner-procurement", help="The API product it is for."),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Register a partner system; prints its client id and secret (shown this once only)."""
    settings = settings_from(
        database_url=database_url, data_dir=data_dir, gateway_config=gateway_config
    )
    try:
        config = load_config(settings)
    except StartupError as error:
        fail(str(error))
    allowed = config.access.scopes_of(frozenset({Role.PARTNER}))
    if not set(scope) <= allowed:
        fail(f"partners may hold only these scopes: {' '.join(sorted(allowed))}")
    if product not in config.products:
        fail(f"unknown product {product!r}; gateway.yaml has {', '.join(config.products)}")
    try:
        facility_ids = sorted({ids.facility(f) for f in facility})
    except ids.InvalidId as error:
        fail(str(error))
    secret = new_secret()
    client = Client(
        client_id=f"cli_{secrets.token_hex(8)}",
        name=name,
        secret_hash=hash_secret(secret),
        scopes=frozenset(scope),
        product=product,
        facility_ids=frozenset(facility_ids),
        created_at=_now(),
        revoked_at=None,
    )

    async def work(engine: AsyncEngine) -> list[str]:
        known = await FacilityRepository(engine, RowScope()).get_many(facility_ids)
        unknown: list[str] = sorted(set(facility_ids) - {f.id for f in known})
        if not unknown:
            await ClientRepository(engine).add(client)
        return unknown

    unknown = _run(settings, work)
    if unknown:
        fail(f"unknown facilities: {', '.join(unknown)}")
    typer.echo(f"client_id:     {client.client_id}")
    typer.echo(f"client_secret: {secret}")
    typer.echo("apgraph: store the secret now; it is kept only as a hash and cannot be shown again")


@clients_app.command("list")
def list_clients(database_url: str = DatabaseUrl, data_dir: Path = DataDir) -> None:
    """Every registered client, revoked ones included."""
    settings = settings_from(database_url=database_url, data_dir=data_dir)
    clients = _run(settings, lambda engine: ClientRepository(engine).all())
    if not clients:
        typer.echo("apgraph: no clients registered (apgraph clients create --help)")
        return
    typer.echo(f"{'client id':22} {'status':8} {'product':20} {'facilities':22} scopes  name")
    for c in clients:
        status = "active" if c.active else "revoked"
        typer.echo(
            f"{c.client_id:22} {status:8} {c.product:20} {','.join(sorted(c.facility_ids)):22} "
            f"{' '.join(sorted(c.scopes))}  {c.name}"
        )


@clients_app.command("revoke")
def revoke_client(
    client_id: str = typer.Argument(...), database_url: str = DatabaseUrl, data_dir: Path = DataDir
) -> None:
    """Revoke a client: its tokens stop working at once, and it can get no new ones."""
    settings = settings_from(database_url=database_url, data_dir=data_dir)
    revoked = _run(settings, lambda engine: ClientRepository(engine).revoke(client_id, at=_now()))
    if not revoked:
        fail(f"no active client {client_id}")
    typer.echo(f"apgraph: revoked {client_id}; its tokens are refused from now on")


def token(
    role: Role = typer.Option(..., help="supplier, ap_clerk, approver, finance_admin, auditor"),
    supplier: str = typer.Option(None, help="The supplier of a supplier user (SUP-…)."),
    facility: list[str] = typer.Option(None, "--facility", help="An approver's facility."),
    client: str = typer.Option(None, help="A registered partner client's id (role partner)."),
    lifetime_minutes: int = typer.Option(60, min=1, max=24 * 60),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
) -> None:
    """Print a bearer token for a seeded demo user of a role, or for a partner client."""
    settings = settings_from(database_url=database_url, data_dir=data_dir)
    if settings.auth_mode != "embedded":
        fail("tokens come from the external issuer in oidc mode")
    issuer = embedded_issuer(settings)
    lifetime = timedelta(minutes=lifetime_minutes)
    if role is Role.PARTNER or client:
        if not client:
            fail("a partner token belongs to a registered client: add --client ID")
        found = _run(settings, lambda engine: ClientRepository(engine).get(client))
        if found is None or not found.active:
            fail(f"no active client {client}")
        scope = " ".join(sorted(found.scopes))
        claims = client_claims(found, scope)
        issued = issuer.issue(subject=found.client_id, now=_now(), claims=claims, lifetime=lifetime)
        typer.echo(issued.access_token)
        return

    async def unknown_ids(engine: AsyncEngine) -> list[str]:
        missing = []
        if supplier and not await stored_supplier_ids(engine, [supplier]):
            missing.append(supplier)
        if facility:
            known = await FacilityRepository(engine, RowScope()).get_many(facility)
            missing += sorted(set(facility) - {f.id for f in known})
        return missing

    try:
        for raw in [supplier, *(facility or [])]:
            if raw:
                (ids.supplier if raw.startswith("SUP") else ids.facility)(raw)
    except ids.InvalidId as error:
        fail(str(error))
    missing = _run(settings, unknown_ids)
    if missing:
        fail(f"not in the database: {', '.join(missing)}")
    try:
        typer.echo(
            demo_token(
                issuer,
                role=role,
                now=_now(),
                supplier_id=supplier,
                facility_ids=list(facility) if facility else None,
                lifetime=lifetime,
            )
        )
    except DemoUserError as error:
        fail(str(error))


@audit_app.command("verify")
def verify_audit(
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Walk the whole chain; name the first entry that was edited, deleted or inserted.
    After a retention purge the chain starts at the signed checkpoint of its cut."""
    settings = settings_from(
        database_url=database_url, data_dir=data_dir, gateway_config=gateway_config
    )

    async def work(engine: AsyncEngine) -> tuple[int, str | None]:
        audit = AuditRepository(engine)
        entries = [entry async for entry in audit.in_order()]
        first = entries[0] if entries else None
        key = None
        if first is not None and first.sequence > 1:  # purged: the checkpoint key is needed
            keyring = await open_keyring(settings, load_config(settings), engine, now=_now())
            key = (await keyring.sealing()).keys.checkpoint_key
        checkpoints = [e for e in entries if e.event.action == CHECKPOINT]
        start = chain_start(first, checkpoints, key=key)
        broken = (
            start
            if isinstance(start, Break)
            else first_break(entries, head=await audit.head(), start=start)
        )
        return len(entries), (f"entry {broken.sequence}: {broken.reason}" if broken else None)

    try:
        count, broken = _run(settings, work)
    except StartupError as error:
        fail(str(error))
    if broken:
        fail(f"audit trail broken at {broken}")
    typer.echo(f"apgraph: audit trail intact ({count} entries)")
