"""AnalyticsSink: payment forecasts to the analytics platform, in batches."""

from collections.abc import Sequence
from dataclasses import dataclass

from apgraph.connectors.analytics import mapping
from apgraph.connectors.rest import RestClient
from apgraph.domain.erp import ForecastRecord


@dataclass(frozen=True, slots=True)
class AnalyticsAdapter:
    client: RestClient
    batch_size: int

    async def send_forecasts(self, records: Sequence[ForecastRecord]) -> int:
        """Batches in order; a failure stops at that batch (earlier ones stay delivered, and
        resending them is harmless: their keys are the same)."""
        batches = [
            records[start : start + self.batch_size]
            for start in range(0, len(records), self.batch_size)
        ]
        for batch in batches:
            key = mapping.batch_key(batch)
            body = await self.client.post_deduplicated(
                mapping.WEBHOOK, mapping.batch_to_vendor(batch, batch_key=key), idempotency_key=key
            )
            mapping.accepted_from_vendor(body)
        return len(batches)
