"""The configuration of each server start, kept for `apgraph config history`, and the audit
entry that says what changed since the start before."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.domain.configuration import (
    CONFIG_STARTED,
    Change,
    ConfigurationStart,
    changes,
    fingerprint,
)
from apgraph.store import audit
from apgraph.store.database import begin_writing
from apgraph.store.tables import ConfigStartRow

_starts: Table = ConfigStartRow.__table__  # type: ignore[assignment]
MAX_LISTED = 50  # changed paths named in one audit entry; the history has them all


def _start(row: Any) -> ConfigurationStart:
    return ConfigurationStart(row.started_at, row.started_by, row.fingerprint, row.document)


async def record_start(
    engine: AsyncEngine, document: Mapping[str, Any], *, by: str, at: datetime
) -> list[Change]:
    """Keeps this start's configuration and audits it with the changes since the last
    start, in one transaction. Returns those changes."""
    found = fingerprint(document)
    async with engine.connect() as connection:
        await begin_writing(connection)
        last = (
            await connection.execute(select(_starts).order_by(_starts.c.id.desc()).limit(1))
        ).first()
        changed = changes(last.document if last is not None else None, document)
        await connection.execute(
            insert(_starts).values(
                started_at=at, started_by=by, fingerprint=found, document=dict(document)
            )
        )
        detail = {
            "fingerprint": found,
            "previous": last.fingerprint if last is not None else None,
            "changed": [change.path for change in changed[:MAX_LISTED]],
            "changed_count": len(changed),
        }
        event = AuditEvent(
            subject=by,
            action=CONFIG_STARTED,
            outcome=AuditOutcome.SUCCEEDED,
            detail=json.dumps(detail, sort_keys=True),
        )
        await audit.append(connection, [event], at=at)
        await connection.commit()
    return changed


async def history(engine: AsyncEngine, *, limit: int) -> list[ConfigurationStart]:
    """The latest `limit` starts, oldest first."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(select(_starts).order_by(_starts.c.id.desc()).limit(limit))
        ).all()
    return [_start(row) for row in reversed(rows)]
