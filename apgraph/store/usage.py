"""API product usage in the database: counts added by every instance, totals for operators.
Implements services/ports/usage.py."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.services.ports.usage import UsageCount, UsageTotal
from apgraph.store.tables import ProductUsageRow

_u = ProductUsageRow.__table__.c


class UsageRepository:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, counts: Sequence[UsageCount]) -> None:
        if not counts:
            return
        async with self.engine.begin() as connection:
            dialect = sqlite if connection.dialect.name == "sqlite" else postgresql
            statement = dialect.insert(ProductUsageRow)
            excluded = statement.excluded
            upsert = statement.on_conflict_do_update(
                index_elements=[_u.minute, _u.product, _u.version, _u.client, _u.operation],
                set_={
                    "requests": _u.requests + excluded.requests,
                    "errors": _u.errors + excluded.errors,
                    "latency_ms_total": _u.latency_ms_total + excluded.latency_ms_total,
                    "latency_ms_max": func.max(_u.latency_ms_max, excluded.latency_ms_max)
                    if connection.dialect.name == "sqlite"
                    else func.greatest(_u.latency_ms_max, excluded.latency_ms_max),
                },
            )
            await connection.execute(
                upsert,
                [
                    {
                        "minute": count.key.minute,
                        "product": count.key.product,
                        "version": count.key.version,
                        "client": count.key.client,
                        "operation": count.key.operation,
                        "requests": count.requests,
                        "errors": count.errors,
                        "latency_ms_total": count.latency_ms_total,
                        "latency_ms_max": count.latency_ms_max,
                    }
                    for count in counts
                ],
            )

    async def totals(
        self, *, product: str | None, version: str | None, since: datetime | None
    ) -> Sequence[UsageTotal]:
        requests = func.sum(_u.requests)
        query = select(
            _u.product,
            _u.version,
            _u.client,
            _u.operation,
            requests,
            func.sum(_u.errors),
            func.sum(_u.latency_ms_total),
            func.max(_u.latency_ms_max),
            func.max(_u.minute),
        ).group_by(_u.product, _u.version, _u.client, _u.operation)
        if product is not None:
            query = query.where(_u.product == product)
        if version is not None:
            query = query.where(_u.version == version)
        if since is not None:
            query = query.where(_u.minute >= since)
        query = query.order_by(requests.desc(), _u.product, _u.version, _u.client, _u.operation)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            UsageTotal(
                product=row[0],
                version=row[1],
                client=row[2],
                operation=row[3],
                requests=int(row[4]),
                errors=int(row[5]),
                mean_latency_ms=float(row[6]) / int(row[4]) if row[4] else 0.0,
                max_latency_ms=float(row[7]),
                last_seen=row[8],  # max() keeps the column's type: aware UTC
            )
            for row in rows
        ]
