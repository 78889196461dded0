"""Rules across a bundle's records: duplicates, and references to other entities.

A reference is satisfied by the bundle or by what is already stored (`KnownIds`), so an
incremental bundle (new POs for stored suppliers) imports as well as a whole network.
"""

from collections.abc import Callable, Hashable, Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Generic, TypeVar

from apgraph.domain.bundle import BundleCode, BundleProblem, KnownIds, MasterDataBundle
from apgraph.domain.facilities import CostCenter
from apgraph.domain.purchasing import ContractPrice, GoodsReceipt, PurchaseOrder
from apgraph.services.bundles.fields import Source
from apgraph.services.bundles.layout import (
    COST_CENTERS,
    FACILITIES,
    PURCHASE_ORDER_LINES,
    PURCHASE_ORDERS,
    SUPPLIERS,
)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Located(Generic[T_co]):
    value: T_co
    source: Source


def duplicates(
    items: Iterable[Located[T]],
    key: Callable[[T], Hashable | None],
    *,
    field_name: str,
    what: Callable[[T], str],
) -> list[BundleProblem]:
    """Every occurrence after the first, naming where the first one is; None keys are skipped
    (a record whose key failed to parse was reported already)."""
    first: dict[Hashable, Source] = {}
    problems = []
    for item in items:
        found = key(item.value)
        if found is None:
            continue
        if found in first:
            earlier = first[found]
            problems.append(
                item.source.problem(
                    field_name,
                    BundleCode.DUPLICATE,
                    f"{what(item.value)} is also at {earlier.file} {earlier.at(field_name)}",
                )
            )
        else:
            first[found] = item.source
    return problems


@dataclass(frozen=True, slots=True)
class Declared:
    """The IDs the bundle declares (rows that failed other checks included, so one bad row
    does not cascade into reference problems) and the line numbers of its POs."""

    facilities: Set[str]
    cost_centers: Set[str]
    suppliers: Set[str]
    purchase_order_lines: Mapping[str, Set[int]]
    unnumbered_orders: Set[str] = frozenset()  # a line's number did not parse: receipts pass
    unreadable: Set[str] = frozenset()  # files whose IDs are unknown: their references pass


def reference_problems(
    declared: Declared,
    known: KnownIds,
    *,
    cost_centers: Iterable[Located[CostCenter]],
    purchase_orders: Iterable[Located[PurchaseOrder]],
    goods_receipts: Iterable[Located[GoodsReceipt]],
    contract_prices: Iterable[Located[ContractPrice]],
) -> list[BundleProblem]:
    """A PO in the bundle brings its lines: a receipt on it must name one of those lines."""
    facilities = declared.facilities | known.facilities
    cost_center_ids = declared.cost_centers | known.cost_centers
    suppliers = declared.suppliers | known.suppliers
    lines = {**known.purchase_order_lines, **declared.purchase_order_lines}
    problems: list[BundleProblem] = []

    def require(
        source: Source, field_name: str, what: str, ref: str, ids: Set[str], file: str
    ) -> None:
        if ref and ref not in ids and file not in declared.unreadable:
            problems.append(
                source.problem(
                    field_name,
                    BundleCode.UNKNOWN_REFERENCE,
                    f"{what} {ref} is neither in the bundle nor stored",
                )
            )

    for center in cost_centers:
        facility_id = center.value.facility_id
        require(center.source, "facility_id", "facility", facility_id, facilities, FACILITIES.name)
    for order in purchase_orders:
        value = order.value
        require(
            order.source, "supplier_id", "supplier", value.supplier_id, suppliers, SUPPLIERS.name
        )
        require(
            order.source, "facility_id", "facility", value.facility_id, facilities, FACILITIES.name
        )
        require(
            order.source,
            "cost_center_id",
            "cost center",
            value.cost_center_id,
            cost_center_ids,
            COST_CENTERS.name,
        )
    lines_unknown = PURCHASE_ORDER_LINES.name in declared.unreadable
    orders = lines.keys()  # a view: built once, not a set per receipt
    for receipt in goods_receipts:
        order_id, line_no = receipt.value.purchase_order_id, receipt.value.line_no
        require(
            receipt.source,
            "purchase_order_id",
            "purchase order",
            order_id,
            orders,
            PURCHASE_ORDERS.name,
        )
        in_bundle = order_id in declared.purchase_order_lines
        if in_bundle and (lines_unknown or order_id in declared.unnumbered_orders):
            continue
        if order_id in lines and line_no and line_no not in lines[order_id]:
            problems.append(
                receipt.source.problem(
                    "line_no",
                    BundleCode.UNKNOWN_REFERENCE,
                    f"{order_id} has no line {line_no}",
                )
            )
    for contract in contract_prices:
        supplier_id = contract.value.supplier_id
        require(contract.source, "supplier_id", "supplier", supplier_id, suppliers, SUPPLIERS.name)
    return problems


def check_references(bundle: MasterDataBundle, known: KnownIds) -> list[BundleProblem]:
    """The reference rules on a bundle already read. Its rows no longer know their file, so a
    problem is placed by entity and ID ("purchase_orders PO-2026-000001"); a reader given
    `known` places the same problems by file and row instead."""

    def by_id(entity: str, id_: str) -> Source:
        return Source(file=entity, location=id_, pointer=False)

    declared = Declared(
        facilities={entry.facility.id for entry in bundle.facilities},
        cost_centers={center.id for center in bundle.cost_centers},
        suppliers={entry.supplier.id for entry in bundle.suppliers},
        purchase_order_lines={
            entry.order.id: {line.line_no for line in entry.lines}
            for entry in bundle.purchase_orders
        },
    )
    return reference_problems(
        declared,
        known,
        cost_centers=[Located(c, by_id("cost_centers", c.id)) for c in bundle.cost_centers],
        purchase_orders=[
            Located(e.order, by_id("purchase_orders", e.order.id)) for e in bundle.purchase_orders
        ],
        goods_receipts=[Located(r, by_id("goods_receipts", r.id)) for r in bundle.goods_receipts],
        contract_prices=[
            Located(c, by_id("contract_prices", c.id)) for c in bundle.contract_prices
        ],
    )
