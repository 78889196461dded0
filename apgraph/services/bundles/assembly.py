"""Raw records of either form → a MasterDataBundle, or every problem found on the way.

Both readers end here, so a JSON and a CSV bundle with the same content are judged by the
same rules and give the same bundle.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from typing import Generic, Protocol, TypeVar

from pydantic import ValidationError

from apgraph.domain.bundle import (
    BundleCode,
    BundleProblem,
    FacilityEntry,
    KnownIds,
    MasterDataBundle,
    PurchaseOrderEntry,
    SupplierEntry,
    VendorLink,
)
from apgraph.domain.facilities import CostCenter
from apgraph.domain.ids import SupplierId
from apgraph.domain.purchasing import ContractPrice, GoodsReceipt, PurchaseOrder
from apgraph.domain.suppliers import Contact, Supplier
from apgraph.policies.matching import MatchingPolicy
from apgraph.services.bundles import entities, layout
from apgraph.services.bundles.consistency import (
    Declared,
    Located,
    duplicates,
    reference_problems,
)
from apgraph.services.bundles.fields import Fields, Record, Source
from apgraph.services.bundles.layout import CSV_FILES, JSON_FILE, POLICY_FILE


@dataclass
class RawBundle:
    """What a reader found: records per entity (CSV files' names), the policy as parsed, and
    the problems of reading itself (unreadable files, unknown columns, schema violations)."""

    records: dict[str, list[Record]] = field(default_factory=lambda: defaultdict(list))
    policy: tuple[Source, object] | None = None
    problems: list[BundleProblem] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # files whose IDs could not be read


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What reading a bundle gave: the bundle, or None with every problem found; and in both
    cases `partial`, the bundle of the rows that parsed (all of them when `bundle` is not
    None), so the caller can ask the store about what those rows refer to and read again
    with `known` to report their reference problems too."""

    bundle: MasterDataBundle | None
    problems: list[BundleProblem]
    partial: MasterDataBundle = MasterDataBundle()

    def pair(self) -> tuple[MasterDataBundle | None, list[BundleProblem]]:
        """The (bundle, problems) the tuple-returning readers give."""
        return self.bundle, self.problems


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class _Built(Generic[T_co]):
    item: Located[T_co]
    ok: bool


def _build(
    records: list[Record], build: Callable[[Fields], T], problems: list[BundleProblem]
) -> list[_Built[T]]:
    built = []
    for record in records:
        fields = Fields(record, problems)
        value = build(fields)
        built.append(_Built(Located(value, record.source), ok=not fields.failed))
    return built


def assemble(raw: RawBundle, *, known: KnownIds | None) -> ReadResult:
    """With `known` None, references outside the bundle are not judged (`check_references`
    does that later); a PO line, contact or vendor link must always come with its owner.
    Only rows that parsed are judged for their references: a bad row was reported already."""
    problems = list(raw.problems)

    def build(csv: layout.CsvFile, builder: Callable[[Fields], T]) -> list[_Built[T]]:
        return _build(raw.records.get(csv.name, []), builder, problems)

    facilities = build(layout.FACILITIES, entities.facility_entry)
    centers = build(layout.COST_CENTERS, entities.cost_center)
    suppliers = build(layout.SUPPLIERS, entities.supplier)
    contacts = build(layout.SUPPLIER_CONTACTS, entities.contact)
    links = build(layout.SUPPLIER_VENDOR_LINKS, entities.vendor_link)
    orders = build(layout.PURCHASE_ORDERS, entities.purchase_order)
    lines = build(layout.PURCHASE_ORDER_LINES, entities.purchase_order_line)
    receipts = build(layout.GOODS_RECEIPTS, entities.goods_receipt)
    contracts = build(layout.CONTRACT_PRICES, entities.contract_price)

    problems += _id_duplicates([Located(e.value.facility, e.source) for e in items(facilities)])
    problems += _id_duplicates(items(centers))
    problems += _id_duplicates(items(suppliers))
    problems += _id_duplicates(items(orders))
    problems += _id_duplicates(items(receipts))
    problems += _id_duplicates(items(contracts))
    problems += duplicates(
        items(lines),
        lambda r: (r.purchase_order_id, r.line.line_no) if r.line.line_no else None,
        field_name="line_no",
        what=lambda r: f"{r.purchase_order_id} line {r.line.line_no}",
    )
    problems += duplicates(
        items(links),
        lambda pair: (pair[0], pair[1].system) if pair[0] else None,
        field_name="system",
        what=lambda pair: f"{pair[0]}'s {pair[1].system.erp_name} vendor link",
    )
    problems += duplicates(
        items(links),
        lambda pair: (pair[1].system, pair[1].vendor_key) if pair[1].vendor_key else None,
        field_name="vendor_key",
        what=lambda pair: f"{pair[1].system.erp_name} vendor key {pair[1].vendor_key!r}",
    )

    declared_orders: dict[str, PurchaseOrder] = {
        one.item.value.id: one.item.value for one in orders if one.item.value.id
    }
    declared_suppliers: set[str] = {one.item.value.id for one in suppliers if one.item.value.id}
    if layout.PURCHASE_ORDERS.name not in raw.unreadable:
        problems += _owners(
            [Located(r.value.purchase_order_id, r.source) for r in items(lines)],
            set(declared_orders),
            "purchase_order_id",
            "purchase order",
        )
    if layout.SUPPLIERS.name not in raw.unreadable:
        owners = [Located(pair.value[0], pair.source) for pair in items(contacts)]
        owners += [Located(pair.value[0], pair.source) for pair in items(links)]
        problems += _owners(owners, declared_suppliers, "supplier_id", "supplier")
    problems += _line_currencies(ok(lines), declared_orders)

    if known is not None:
        order_lines: dict[str, set[int]] = {order_id: set() for order_id in declared_orders}
        for line in items(lines):
            order_lines.get(line.value.purchase_order_id, set()).add(line.value.line.line_no)
        # a row whose ID did not parse may be the one a reference means
        ids_of: dict[str, list[str]] = {
            layout.FACILITIES.name: [one.item.value.facility.id for one in facilities],
            layout.COST_CENTERS.name: [one.item.value.id for one in centers],
            layout.SUPPLIERS.name: [one.item.value.id for one in suppliers],
            layout.PURCHASE_ORDERS.name: [one.item.value.id for one in orders],
        }
        unidentified = {name for name, ids in ids_of.items() if "" in ids}
        declared = Declared(
            facilities={one.item.value.facility.id for one in facilities} - {""},
            cost_centers={one.item.value.id for one in centers} - {""},
            suppliers=declared_suppliers,
            purchase_order_lines=order_lines,
            unnumbered_orders={
                line.value.purchase_order_id for line in items(lines) if not line.value.line.line_no
            },
            unreadable=raw.unreadable | unidentified,
        )
        problems += reference_problems(
            declared,
            known,
            cost_centers=ok(centers),
            purchase_orders=ok(orders),
            goods_receipts=ok(receipts),
            contract_prices=ok(contracts),
        )
    policy = None
    if raw.policy is not None:
        source, policy = raw.policy
        problems += policy_problems(source, policy)

    partial = _bundle(
        facilities=[e.value for e in ok(facilities)],
        cost_centers=[c.value for c in ok(centers)],
        suppliers=[s.value for s in ok(suppliers)],
        contacts=[c.value for c in ok(contacts)],
        links=[link.value for link in ok(links)],
        orders=[o.value for o in ok(orders)],
        lines=[line.value for line in ok(lines)],
        receipts=[r.value for r in ok(receipts)],
        contracts=[c.value for c in ok(contracts)],
        policy=policy,
    )
    if problems:
        return ReadResult(None, sorted(problems, key=report_order), partial)
    return ReadResult(partial, [], partial)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


def _id_duplicates(items: Sequence[Located[_HasId]]) -> list[BundleProblem]:
    """An ID that failed to parse is "" and was reported already."""
    return duplicates(
        items,
        lambda value: value.id or None,
        field_name="id",
        what=lambda value: value.id,
    )


def items(built: Sequence[_Built[T]]) -> list[Located[T]]:
    return [one.item for one in built]


def ok(built: Sequence[_Built[T]]) -> list[Located[T]]:
    return [one.item for one in built if one.ok]


def _owners(
    children: Sequence[Located[str]],
    declared: Set[str],
    field_name: str,
    what: str,
) -> list[BundleProblem]:
    """A line (contact, vendor link) is part of its owner's record, so its owner must be in
    the bundle even when stored: the bundle replaces the owner's lines as a whole."""
    return [
        child.source.problem(
            field_name, BundleCode.UNKNOWN_REFERENCE, f"{what} {child.value} is not in the bundle"
        )
        for child in children
        if child.value and child.value not in declared
    ]


def _line_currencies(
    lines: list[Located[entities.LineRecord]], orders: Mapping[str, PurchaseOrder]
) -> list[BundleProblem]:
    problems = []
    for line in lines:
        order = orders.get(line.value.purchase_order_id)
        currency = line.value.currency
        if order and order.currency and currency is not None and currency != order.currency:
            problems.append(
                line.source.problem(
                    "currency",
                    BundleCode.INVALID_VALUE,
                    f"{order.id} is in {order.currency}; its lines are too, not {currency}",
                )
            )
    return problems


def policy_problems(source: Source, policy: object) -> list[BundleProblem]:
    """The `matching` section, checked by the model gateway.yaml's section is checked by."""
    try:
        MatchingPolicy.model_validate(policy)
    except ValidationError as error:
        return [
            BundleProblem(
                source.file,
                "/".join([source.location, *(str(part) for part in issue["loc"])]) or "/",
                str(issue["loc"][-1]) if issue["loc"] else None,
                BundleCode.INVALID_POLICY,
                issue["msg"],
            )
            for issue in error.errors()
        ]
    return []


def _bundle(
    *,
    facilities: list[FacilityEntry],
    cost_centers: list[CostCenter],
    suppliers: list[Supplier],
    contacts: list[tuple[SupplierId, Contact]],
    links: list[tuple[SupplierId, VendorLink]],
    orders: list[PurchaseOrder],
    lines: list[entities.LineRecord],
    receipts: list[GoodsReceipt],
    contracts: list[ContractPrice],
    policy: object,
) -> MasterDataBundle:
    """Contacts keep their order in the file; everything else goes in canonical order."""
    contacts_of: dict[str, list[Contact]] = defaultdict(list)
    for supplier_id, contact in contacts:
        contacts_of[supplier_id].append(contact)
    links_of: dict[str, list[VendorLink]] = defaultdict(list)
    for supplier_id, link in links:
        links_of[supplier_id].append(link)
    lines_of: dict[str, list[entities.LineRecord]] = defaultdict(list)
    for line in lines:
        lines_of[line.purchase_order_id].append(line)
    return MasterDataBundle(
        facilities=tuple(sorted(facilities, key=lambda e: e.facility.id)),
        cost_centers=tuple(sorted(cost_centers, key=lambda c: c.id)),
        suppliers=tuple(
            SupplierEntry(
                supplier=replace(supplier, contacts=tuple(contacts_of[supplier.id])),
                vendor_links=tuple(
                    sorted(links_of[supplier.id], key=lambda link: link.system.value)
                ),
            )
            for supplier in sorted(suppliers, key=lambda s: s.id)
        ),
        purchase_orders=tuple(
            PurchaseOrderEntry(
                order=order,
                lines=tuple(
                    line.line
                    for line in sorted(lines_of[order.id], key=lambda line: line.line.line_no)
                ),
            )
            for order in sorted(orders, key=lambda o: o.id)
        ),
        goods_receipts=tuple(sorted(receipts, key=lambda r: r.id)),
        contract_prices=tuple(sorted(contracts, key=lambda c: c.id)),
        policy=policy if isinstance(policy, Mapping) else None,
    )


_FILE_ORDER = [JSON_FILE, *(csv.name for csv in CSV_FILES), POLICY_FILE]


_JSON_ORDER = ["", "format", "version", *(csv.name.removesuffix(".csv") for csv in CSV_FILES)]


def report_order(problem: BundleProblem) -> tuple[int, str, int, list[tuple[int, str]]]:
    """By file in the bundle's order, then by row or by entity and index (numerically)."""
    rank = _FILE_ORDER.index(problem.file) if problem.file in _FILE_ORDER else len(_FILE_ORDER)
    entity = problem.location.split("/")[1] if problem.location.startswith("/") else ""
    entity_rank = _JSON_ORDER.index(entity) if entity in _JSON_ORDER else len(_JSON_ORDER)
    parts = [
        (int(part), "") if part.isdigit() else (-1, part)
        for part in re.split(r"(\d+)", problem.location)
        if part
    ]
    return rank, problem.file, entity_rank, parts
