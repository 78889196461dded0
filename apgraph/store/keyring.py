"""The data keys in the database, wrapped by the key-encryption key, unwrapped in memory.

Every process that reads sealed values holds a Keyring. A row sealed under a key it has not
seen (another process rotated) makes it reload the table once, so a rotation never fails a
read anywhere; the retired keys stay until every row has moved off them.

Writes are the other direction: a process that has not seen a rotation yet still seals new
rows with the key just retired. So held keys are reloaded once they are `KEYS_MAX_AGE` old,
and a retired key is dropped only when no row needs it *and* it was retired longer ago than
any process can still be sealing with it (`DROP_GRACE`): otherwise a row written by a
process a rotation had not reached yet would be sealed under a key already deleted.
"""

import asyncio
import base64
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.services.ports.keys import KeyEncryptionKey, KeyUnwrapFailed
from apgraph.store.database import begin_writing, not_counted
from apgraph.store.sealing import DataKeys, Sealing, new_key
from apgraph.store.tables import DataKeyRow

DATA = "data"
INDEX = "index"
CHECKPOINT = "checkpoint"  # signs audit checkpoints (purge by checkpoint)
_PREFIXES = {DATA: "dk", INDEX: "ix", CHECKPOINT: "ck"}
KEYS_MAX_AGE = 30.0  # seconds a process seals with the keys it loaded before reading them again
# how long a retired key is kept although no row needs it: well beyond KEYS_MAX_AGE plus the
# longest write transaction (a large master-data import), so no process still seals with it
DROP_GRACE = timedelta(minutes=10)
_table: Table = DataKeyRow.__table__  # type: ignore[assignment]
_keys = _table.c


class KeyringError(Exception):
    """The keys cannot be used; the message is one line an operator can act on."""


async def has_data_keys(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return (await connection.execute(select(_keys.id).limit(1))).first() is not None


def _key_id(prefix: str, now: datetime) -> str:
    return f"{prefix}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"


@dataclass
class DropReport:
    """What `drop_retired` did: the keys it deleted, and the unused ones it kept because they
    were retired too recently (id → when they may go)."""

    dropped: list[str] = field(default_factory=list)
    kept_until: dict[str, datetime] = field(default_factory=dict)


class Keyring:
    def __init__(
        self,
        engine: AsyncEngine,
        kek: KeyEncryptionKey,
        *,
        columns: Iterable[str],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self._monotonic = monotonic
        self.kek = kek
        self.columns = frozenset(columns)
        self._keys: DataKeys | None = None
        self._loaded_at = 0.0  # self._monotonic() at the last load
        self._lock = asyncio.Lock()

    async def sealing(self, *, needs: Iterable[str | None] = ()) -> Sealing:
        """The keys to seal and open with; reloaded when a needed key is not held yet, or when
        the held ones are older than KEYS_MAX_AGE (another process may have rotated)."""
        keys = self._keys
        wanted = {key for key in needs if key}
        stale = self._monotonic() - self._loaded_at > KEYS_MAX_AGE
        if keys is None or stale or not wanted <= keys.keys.keys():
            keys = await self.reload()
        return Sealing(keys, self.columns)

    async def reload(self) -> DataKeys:
        async with self._lock:
            loaded_at = self._monotonic()
            self._keys = await self._load()
            self._loaded_at = loaded_at
            return self._keys

    async def _load(self) -> DataKeys:
        with not_counted():
            return await self._read_keys()

    async def _read_keys(self) -> DataKeys:
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(DataKeyRow.__table__).order_by(_keys.created_at, _keys.id)
                )
            ).all()
        if not rows:
            raise KeyringError(
                "no data keys in the database (`apgraph db upgrade` or `apgraph serve` creates "
                "them)"
            )
        unwrapped: dict[str, bytes] = {}
        active = index = checkpoint = None
        for row in rows:
            try:
                key = self.kek.unwrap(base64.b64decode(row.wrapped))
            except KeyUnwrapFailed:
                raise KeyringError(
                    f"the key-encryption key ({self.kek.name}) does not unwrap data key "
                    f"{row.id}: it is not the key these data keys were wrapped with"
                ) from None
            if row.purpose == INDEX:
                index = key
            elif row.purpose == CHECKPOINT:
                checkpoint = key
            else:
                unwrapped[row.id] = key
                if row.retired_at is None:
                    active = row.id
        if active is None or index is None:
            raise KeyringError("the data_keys table has no active data key or no index key")
        return DataKeys(
            keys=unwrapped, active_id=active, index_key=index, checkpoint_key=checkpoint
        )

    async def create_if_missing(self, *, now: datetime) -> bool:
        """A key of each purpose the database lacks (on a first start, all of them; after an
        upgrade, those a new version added). True if any was made."""
        async with self.engine.connect() as connection:
            await begin_writing(connection)
            present = set((await connection.execute(select(_keys.purpose).distinct())).scalars())
            missing = [purpose for purpose in _PREFIXES if purpose not in present]
            if missing:
                await connection.execute(
                    insert(_table),
                    [self._row(_key_id(_PREFIXES[p], now), p, now) for p in missing],
                )
            await connection.commit()
        return bool(missing)

    async def rotate(self, *, now: datetime) -> str:
        """A new active data key; the others are retired (they still open old rows)."""
        key_id = _key_id("dk", now)
        async with self.engine.connect() as connection:
            await begin_writing(connection)
            await connection.execute(
                update(DataKeyRow)
                .where(_keys.purpose == DATA, _keys.retired_at.is_(None))
                .values(retired_at=now)
            )
            await connection.execute(insert(_table), [self._row(key_id, DATA, now)])
            await connection.commit()
        await self.reload()
        return key_id

    async def rewrap(self, new_kek: KeyEncryptionKey) -> int:
        """Every data key wrapped again under `new_kek`, in one transaction. Rows keep their
        ciphertext: only the wrapping changes. Returns how many keys were re-wrapped."""
        keys = await self.reload()
        async with self.engine.connect() as connection:
            await begin_writing(connection)
            rows = (await connection.execute(select(_keys.id, _keys.purpose))).all()
            for row in rows:
                plain = {INDEX: keys.index_key, CHECKPOINT: keys.checkpoint_key}.get(
                    row.purpose, keys.keys.get(row.id)
                )
                assert plain is not None  # every stored key was unwrapped by reload()
                await connection.execute(
                    update(DataKeyRow)
                    .where(_keys.id == row.id)
                    .values(wrapped=base64.b64encode(new_kek.wrap(plain)).decode())
                )
            await connection.commit()
        self.kek = new_kek
        return len(rows)

    async def drop_retired(
        self, *, in_use: Iterable[str], now: datetime, grace: timedelta = DROP_GRACE
    ) -> DropReport:
        """Deletes retired data keys no row is sealed under any more and that were retired at
        least `grace` before `now` (see the module docstring); the younger ones are kept."""
        used = set(in_use)
        report = DropReport()
        async with self.engine.connect() as connection:
            await begin_writing(connection)
            retired = (
                await connection.execute(
                    select(_keys.id, _keys.retired_at).where(
                        _keys.purpose == DATA, _keys.retired_at.is_not(None)
                    )
                )
            ).all()
            for key_id, retired_at in sorted(retired):
                if key_id in used:
                    continue
                may_go = retired_at + grace
                if may_go <= now:
                    report.dropped.append(key_id)
                else:
                    report.kept_until[key_id] = may_go
            if report.dropped:
                await connection.execute(delete(_table).where(_keys.id.in_(report.dropped)))
            await connection.commit()
        await self.reload()
        return report

    def _row(self, key_id: str, purpose: str, now: datetime) -> dict[str, object]:
        wrapped = base64.b64encode(self.kek.wrap(new_key())).decode()
        return {
            "id": key_id,
            "purpose": purpose,
            "wrapped": wrapped,
            "created_at": now,
            "retired_at": None,
        }
