"""ContractPrices from the sourcing platform."""

from dataclasses import dataclass
from datetime import date

from apgraph.connectors.rest import RestClient
from apgraph.connectors.sourcing import mapping
from apgraph.domain.ids import SupplierId
from apgraph.domain.purchasing import ContractPrice


@dataclass(frozen=True, slots=True)
class SourcingAdapter:
    client: RestClient

    async def price_for(
        self, *, supplier_id: SupplierId, item_id: str, on: date
    ) -> ContractPrice | None:
        """Of several agreement lines valid that day, the one that started last."""
        body = await self.client.get(
            mapping.AGREEMENT_LINES, params=mapping.price_query(supplier_id, item_id)
        )
        valid = [price for price in mapping.prices_from_vendor(body) if price.valid_on(on)]
        return max(valid, key=lambda price: (price.valid_from, price.id), default=None)
