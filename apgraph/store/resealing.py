"""Moves supplier rows onto the active data key (and the configured sealed columns), and
webhook signing secrets with them, in bounded batches, while the server keeps serving.

Each batch is its own short transaction; each row is rewritten only if it still holds what
was read (`data_key_id` and the sealed columns unchanged), so a concurrent import or another
process resealing the same rows is never overwritten. Reads work throughout: a row is always
sealed under a key the keyring holds or can load. Covers three cases with one pass:
- rows written before sealing existed (plain, `data_key_id` NULL): the migration path;
- rows under a retired key after `apgraph keys rotate-data`;
- a column added to or removed from `at_rest: encrypted` in gateway.yaml (a full pass).
Webhook secrets are always sealed (gateway.yaml does not configure them): those under a retired
key move, so that key can be dropped.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Table, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.store.database import begin_writing
from apgraph.store.keyring import Keyring
from apgraph.store.sealing import (
    SEALED_COLUMNS_KNOWN,
    SUPPLIERS,
    Place,
    Sealing,
    Unreadable,
    key_id_of,
)
from apgraph.store.tables import SealingStateRow, SupplierRow, WebhookRow
from apgraph.store.webhooks import WEBHOOKS
from apgraph.store.webhooks import keys_in_use as webhook_keys_in_use

BATCH = 500
log = logging.getLogger("apgraph.sealing")
_suppliers: Table = SupplierRow.__table__  # type: ignore[assignment]
_state: Table = SealingStateRow.__table__  # type: ignore[assignment]
_webhooks: Table = WebhookRow.__table__  # type: ignore[assignment]


@dataclass(slots=True)
class ResealReport:
    moved: int = 0  # supplier rows
    secrets_moved: int = 0  # webhook signing secrets
    unreadable: list[str] = field(default_factory=list)  # supplier and webhook IDs left as is


async def pending(engine: AsyncEngine, keyring: Keyring) -> int:
    """Rows not yet sealed as the configuration and the active key say."""
    sealing = await keyring.sealing()
    async with engine.connect() as connection:
        full = await _columns_changed(connection, sealing)
        statement = select(_suppliers.c.id)
        if not full:
            statement = statement.where(_stale(sealing))
        return len((await connection.execute(statement)).all())


async def keys_in_use(engine: AsyncEngine) -> set[str]:
    """The data keys some row is still sealed under (suppliers, webhook secrets)."""
    async with engine.connect() as connection:
        found = await connection.execute(
            select(_suppliers.c.data_key_id).where(_suppliers.c.data_key_id.is_not(None)).distinct()
        )
        used = set(found.scalars())
    return used | await webhook_keys_in_use(engine)


async def reseal(
    engine: AsyncEngine,
    keyring: Keyring,
    *,
    batch: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> ResealReport:
    """Until no row is left behind; see the module docstring."""
    await keyring.reload()  # the newest active key, even if another process rotated
    sealing = await keyring.sealing()
    report = ResealReport()
    async with engine.connect() as connection:
        full = await _columns_changed(connection, sealing)
    after = ""
    while True:
        async with engine.connect() as connection:
            await begin_writing(connection)
            statement = select(_suppliers).where(_suppliers.c.id > after)
            if not full:
                statement = statement.where(_stale(sealing))
            rows = (
                await connection.execute(statement.order_by(_suppliers.c.id).limit(batch))
            ).all()
            if not rows:
                await connection.commit()
                break
            for row in rows:
                if await _reseal_row(connection, sealing, keyring, row._mapping, report):
                    report.moved += 1
            await connection.commit()
        after = rows[-1].id
        if on_batch is not None:
            on_batch(report.moved)
    async with engine.connect() as connection:
        await begin_writing(connection)
        await connection.execute(_state.delete().where(_state.c.table_name == SUPPLIERS))
        await connection.execute(
            _state.insert(), [{"table_name": SUPPLIERS, "columns": sorted(sealing.columns)}]
        )
        await connection.commit()
    await _reseal_webhook_secrets(engine, keyring, sealing, report, batch=batch)
    for row_id in report.unreadable:
        log.error("%s: a sealed value fails its integrity check; left as is", row_id)
    return report


async def _reseal_webhook_secrets(
    engine: AsyncEngine, keyring: Keyring, sealing: Sealing, report: ResealReport, *, batch: int
) -> None:
    """Every secret not under the active key, removed webhooks' included (their rows still
    name a key), rewritten only if it still holds what was read."""
    active = sealing.keys.active_id
    after = ""
    while True:
        async with engine.connect() as connection:
            await begin_writing(connection)
            rows = (
                await connection.execute(
                    select(_webhooks.c.id, _webhooks.c.secret, _webhooks.c.data_key_id)
                    .where(_webhooks.c.id > after, _webhooks.c.data_key_id != active)
                    .order_by(_webhooks.c.id)
                    .limit(batch)
                )
            ).all()
            if not rows:
                await connection.commit()
                return
            for row in rows:
                place = Place(WEBHOOKS, "secret", row.id)
                keys = (await keyring.sealing(needs=[row.data_key_id])).keys
                try:
                    secret = keys.open(row.secret, place)
                except Unreadable:
                    report.unreadable.append(row.id)
                    continue
                written = await connection.execute(
                    update(_webhooks)
                    .where(
                        _webhooks.c.id == row.id,
                        _webhooks.c.secret == row.secret,
                        _webhooks.c.data_key_id == row.data_key_id,
                    )
                    .values(secret=sealing.keys.seal(secret, place), data_key_id=active)
                )
                report.secrets_moved += written.rowcount
            await connection.commit()
        after = rows[-1].id


def _stale(sealing: Sealing) -> ColumnElement[bool]:
    if not sealing.columns:
        return _suppliers.c.data_key_id.is_not(None)
    return or_(
        _suppliers.c.data_key_id.is_(None),
        _suppliers.c.data_key_id != sealing.keys.active_id,
    )


async def _columns_changed(connection: AsyncConnection, sealing: Sealing) -> bool:
    stored = (
        await connection.execute(select(_state.c.columns).where(_state.c.table_name == SUPPLIERS))
    ).scalar()
    if stored is None:
        # never recorded: a database sealed by this version from the start has every row
        # under some key; one written before has rows with NULL keys, which `_stale` finds
        return False
    return frozenset(stored) != sealing.columns


async def _reseal_row(
    connection: AsyncConnection,
    sealing: Sealing,
    keyring: Keyring,
    row: Mapping[str, Any] | RowMapping,
    report: ResealReport,
) -> bool:
    plain = dict(row)
    needs = {key_id_of(row[c]) for c in SEALED_COLUMNS_KNOWN if row[c] is not None}
    keys = (await keyring.sealing(needs=needs)).keys
    try:
        for column in SEALED_COLUMNS_KNOWN:
            value = row[column]
            if value is not None and key_id_of(value) is not None:
                plain[column] = keys.open(value, Place(SUPPLIERS, column, row["id"]))
    except Unreadable:
        report.unreadable.append(row["id"])
        return False
    sealed = sealing.seal_supplier(plain)
    unchanged = and_(
        _suppliers.c.id == row["id"],
        _suppliers.c.data_key_id.is_not_distinct_from(row["data_key_id"]),
        *(_suppliers.c[c].is_not_distinct_from(row[c]) for c in SEALED_COLUMNS_KNOWN),
    )
    written = await connection.execute(
        update(_suppliers)
        .where(unchanged)
        .values({c: sealed[c] for c in (*SEALED_COLUMNS_KNOWN, "data_key_id", "bank_account_hash")})
    )
    return bool(written.rowcount)
