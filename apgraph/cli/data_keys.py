"""`apgraph keys rotate-data | reseal | new-kek`: the data keys that seal classified columns.

`rotate-data` makes a new data key (wrapped by the key-encryption key) the one that seals;
rows move to it with `reseal` (run at once unless `--no-reseal`, and by every server in the
background), in short batches while the servers keep reading. Both are audited. A retired key
no row needs is deleted once it has been retired `--keep-retired-minutes` (a running server
may seal with it until it reloads its keys: store/keyring.py).
"""

import asyncio
import base64
import getpass
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.cli.identity import keys_app
from apgraph.cli.options import DatabaseUrl, DataDir, GatewayConfigPath, fail, settings_from
from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.gateway.key_encryption import dropped_event, open_keyring, resealed_event
from apgraph.gateway.runtime import SystemClock
from apgraph.gateway.startup import StartupError, load_config
from apgraph.settings import Settings
from apgraph.store import migrate
from apgraph.store.audit import AuditRepository
from apgraph.store.database import create_engine
from apgraph.store.keyring import DROP_GRACE, DropReport, Keyring
from apgraph.store.resealing import ResealReport, keys_in_use, reseal
from apgraph.store.sealing import new_key

T = TypeVar("T")
ROTATED = "keys.data_key_rotated"
KeepRetiredMinutes = typer.Option(
    DROP_GRACE.total_seconds() / 60,
    "--keep-retired-minutes",
    min=0,
    help="Keep a retired data key this long after its retirement even when no row needs it: "
    "a running server may still seal new rows with it until it reloads its keys (within 30 "
    "seconds). 0 only when no server runs.",
)


def register(app: typer.Typer) -> None:
    """The commands join `apgraph keys` (cli/identity.py owns the group)."""
    keys_app.command("rotate-data")(rotate_data)
    keys_app.command("reseal")(reseal_command)
    keys_app.command("new-kek")(new_kek)


def rotate_data(
    do_reseal: bool = typer.Option(
        True, "--reseal/--no-reseal", help="Move every row to the new key now."
    ),
    keep_retired_minutes: float = KeepRetiredMinutes,
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Seal with a new data key from now on; the old keys keep opening the rows they sealed
    until `reseal` (here, or any server's background pass) has moved them."""
    settings = settings_from(
        database_url=database_url, data_dir=data_dir, gateway_config=gateway_config
    )

    async def work(
        engine: AsyncEngine, keyring: Keyring
    ) -> tuple[str, tuple[ResealReport, DropReport] | None]:
        clock = SystemClock()
        key_id = await keyring.rotate(now=clock.now())
        await AuditRepository(engine).record(
            [_event(ROTATED, detail={"active": key_id})], at=clock.now()
        )
        if not do_reseal:
            return key_id, None
        return key_id, await _resealed(engine, keyring, keep=keep_retired_minutes)

    key_id, reports = _run(settings, work)
    typer.echo(f"apgraph: new rows are sealed with data key {key_id}")
    if reports is not None:
        _report(*reports)


def reseal_command(
    keep_retired_minutes: float = KeepRetiredMinutes,
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Move every supplier row and webhook secret still under a retired data key (or still
    plain) to the active key, in short batches; reads go on meanwhile. Exit 1 if a row
    cannot be read."""
    settings = settings_from(
        database_url=database_url, data_dir=data_dir, gateway_config=gateway_config
    )

    async def work(engine: AsyncEngine, keyring: Keyring) -> tuple[ResealReport, DropReport]:
        return await _resealed(engine, keyring, keep=keep_retired_minutes)

    _report(*_run(settings, work))


def new_kek() -> None:
    """Print a new random key-encryption key (base64), e.g. for APGRAPH_KEY_ENCRYPTION_KEY."""
    typer.echo(base64.b64encode(new_key()).decode())


async def _resealed(
    engine: AsyncEngine, keyring: Keyring, *, keep: float
) -> tuple[ResealReport, DropReport]:
    report = await reseal(engine, keyring)
    now = SystemClock().now()
    drops = await keyring.drop_retired(
        in_use=await keys_in_use(engine), now=now, grace=timedelta(minutes=keep)
    )
    events = [resealed_event(report, subject=_subject())]
    if drops.dropped:
        events.append(dropped_event(drops.dropped, subject=_subject()))
    await AuditRepository(engine).record(events, at=now)
    return report, drops


def _event(
    action: str,
    *,
    detail: dict[str, object],
    outcome: AuditOutcome = AuditOutcome.SUCCEEDED,
    entity_ids: tuple[str, ...] = (),
) -> AuditEvent:
    return AuditEvent(
        subject=_subject(),
        action=action,
        outcome=outcome,
        entity_ids=entity_ids,
        detail=json.dumps(detail, sort_keys=True),
    )


def _subject() -> str:
    return f"cli:{getpass.getuser()}"


def _report(report: ResealReport, drops: DropReport) -> None:
    typer.echo(
        f"apgraph: {report.moved} supplier row(s) and {report.secrets_moved} webhook secret(s) "
        "moved to the active data key"
    )
    if drops.dropped:
        typer.echo(f"apgraph: retired data key(s) dropped: {', '.join(drops.dropped)}")
    for key_id, may_go in drops.kept_until.items():
        typer.echo(
            f"apgraph: retired data key {key_id} kept until {may_go:%Y-%m-%d %H:%M:%S}Z (a "
            "running server may still seal with it); a server's background reseal or "
            "`apgraph keys reseal` drops it after that"
        )
    if report.unreadable:
        fail(
            f"{len(report.unreadable)} row(s) fail their integrity check and were left as they "
            f"are (FIELD_UNREADABLE): {', '.join(report.unreadable)}"
        )


def _run(settings: Settings, work: Callable[[AsyncEngine, Keyring], Awaitable[T]]) -> T:
    async def main() -> T:
        if settings.database_url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
        try:
            await migrate.upgrade(engine)
            keyring = await open_keyring(
                settings, load_config(settings), engine, now=SystemClock().now()
            )
            return await work(engine, keyring)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(main())
    except StartupError as error:
        fail(str(error))
