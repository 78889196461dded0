"""The sourcing platform's agreement lines JSON → canonical contract prices."""

from typing import Any

from apgraph.connectors import vendor_values as values
from apgraph.domain.ids import ContractPriceId, SupplierId
from apgraph.domain.purchasing import ContractPrice
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import ConnectorMappingError

SYSTEM = ExternalSystem.SOURCING
AGREEMENT_LINES = "v1/agreement-lines"


def price_query(supplier_id: SupplierId, item_id: str) -> dict[str, str | int]:
    return {"supplierRef": supplier_id, "itemRef": item_id}


def prices_from_vendor(body: Any) -> list[ContractPrice]:
    return [_price(item) for item in values.items(SYSTEM, body, "data")]


def _price(item: Any) -> ContractPrice:
    def get(source: Any, name: str) -> Any:
        return values.member(SYSTEM, source, name)

    price, validity = get(item, "price"), get(item, "validity")
    line = values.integer(SYSTEM, "agreementLine", get(item, "agreementLine"))
    valid_from = values.day(SYSTEM, "start", get(validity, "start"))
    valid_to = values.day(SYSTEM, "end", get(validity, "end"))
    if valid_to < valid_from:
        raise ConnectorMappingError(SYSTEM, "end", f"validity ends {valid_to} before {valid_from}")
    return ContractPrice(
        id=ContractPriceId(f"CT-{line:06d}"),
        supplier_id=SupplierId(values.text(SYSTEM, "supplierRef", get(item, "supplierRef"))),
        item_id=values.text(SYSTEM, "itemRef", get(item, "itemRef")),
        unit_price=values.amount(SYSTEM, "value", get(price, "value")),
        currency=values.text(SYSTEM, "currency", get(price, "currency")),
        valid_from=valid_from,
        valid_to=valid_to,
    )
