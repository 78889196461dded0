"""A master-data bundle: what a hospital network brings when it joins apgraph.

The canonical entities of one or more facilities, in dependency order, plus the ERP facts
only onboarding knows: each facility's ERP and migration mode, each supplier's vendor keys.
Parsing (JSON or CSV), storing and exporting live elsewhere; this is the shape they share,
and the report every check writes into.
"""

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from enum import Enum

from apgraph.domain.erp import ErpRoute, MigrationMode
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.purchasing import ContractPrice, GoodsReceipt, PurchaseOrder, PurchaseOrderLine
from apgraph.domain.suppliers import Supplier
from apgraph.domain.systems import ExternalSystem


@dataclass(frozen=True, slots=True)
class FacilityEntry:
    facility: Facility
    erp: ExternalSystem
    migration: MigrationMode

    @property
    def route(self) -> ErpRoute:
        return ErpRoute(self.migration)


@dataclass(frozen=True, slots=True)
class VendorLink:
    """A supplier's key in one ERP's vendor master (the `erp_cross_references` table)."""

    system: ExternalSystem
    vendor_key: str


@dataclass(frozen=True, slots=True)
class SupplierEntry:
    supplier: Supplier
    vendor_links: tuple[VendorLink, ...]


@dataclass(frozen=True, slots=True)
class PurchaseOrderEntry:
    order: PurchaseOrder
    lines: tuple[PurchaseOrderLine, ...]  # by line_no


@dataclass(frozen=True, slots=True)
class MasterDataBundle:
    """Each tuple in canonical-ID order. `policy` is the `matching` section as plain data
    (the shape of gateway.yaml's), checked by `policies.matching.MatchingPolicy`."""

    facilities: tuple[FacilityEntry, ...] = ()
    cost_centers: tuple[CostCenter, ...] = ()
    suppliers: tuple[SupplierEntry, ...] = ()
    purchase_orders: tuple[PurchaseOrderEntry, ...] = ()
    goods_receipts: tuple[GoodsReceipt, ...] = ()
    contract_prices: tuple[ContractPrice, ...] = ()
    policy: Mapping[str, object] | None = None

    def counts(self) -> dict[str, int]:
        """Rows per entity, in the bundle's file order (what the report prints)."""
        return {
            "facilities": len(self.facilities),
            "cost_centers": len(self.cost_centers),
            "suppliers": len(self.suppliers),
            "purchase_orders": len(self.purchase_orders),
            "purchase_order_lines": sum(len(entry.lines) for entry in self.purchase_orders),
            "goods_receipts": len(self.goods_receipts),
            "contract_prices": len(self.contract_prices),
        }


@dataclass(frozen=True, slots=True)
class KnownIds:
    """Of the IDs a bundle refers to, those already stored: references the bundle itself does
    not satisfy may be satisfied by these. The store answers only for the IDs it was asked
    about, never with whole tables."""

    facilities: Set[str] = frozenset()
    cost_centers: Set[str] = frozenset()
    suppliers: Set[str] = frozenset()
    purchase_order_lines: Mapping[str, Set[int]] = field(default_factory=dict)  # PO → line_nos


class BundleCode(Enum):
    """Why a bundle row cannot be imported; stable, shown in reports and the API."""

    MALFORMED = "MALFORMED"
    """Not JSON, not CSV, or badly encoded: the whole file is unreadable."""
    TOO_LARGE = "TOO_LARGE"
    """The file, or the whole bundle once inflated, is over the size or row limit."""
    MISSING_FILE = "MISSING_FILE"
    """A CSV file the bundle needs is not there."""
    UNKNOWN_FILE = "UNKNOWN_FILE"
    """A file the format does not know."""
    MISSING_COLUMN = "MISSING_COLUMN"
    """A CSV file lacks a required column."""
    UNKNOWN_COLUMN = "UNKNOWN_COLUMN"
    """A CSV file has a column the format does not know."""
    SCHEMA = "SCHEMA"
    """The JSON Schema refused it: wrong type, missing or unknown property."""
    REQUIRED = "REQUIRED"
    """A required value is empty."""
    INVALID_ID = "INVALID_ID"
    """Not a canonical ID of the right kind (e.g. SUP-000123)."""
    INVALID_VALUE = "INVALID_VALUE"
    """Not one of an enum's values, not a boolean, …"""
    INVALID_AMOUNT = "INVALID_AMOUNT"
    """Not a decimal string, or more decimal places than allowed."""
    NEGATIVE_QUANTITY = "NEGATIVE_QUANTITY"
    """A quantity below zero."""
    INVALID_DATE = "INVALID_DATE"
    """Not a date in YYYY-MM-DD form."""
    DATE_RANGE = "DATE_RANGE"
    """valid_to before valid_from."""
    DUPLICATE = "DUPLICATE"
    """The same canonical ID (or natural key) twice in the bundle."""
    UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE"
    """Refers to an entity neither in the bundle nor already stored."""
    INVALID_POLICY = "INVALID_POLICY"
    """The bundle's matching policy is not valid."""


@dataclass(frozen=True, slots=True)
class BundleProblem:
    """One line of the report: where (file and row, or JSON pointer), which field, and why."""

    file: str  # "bundle.json", "purchase_order_lines.csv"
    location: str  # "row 12" (CSV, header is row 1) or "/purchase_orders/3/lines/0" (JSON)
    field: str | None
    code: BundleCode
    message: str

    def line(self) -> str:
        field = f" {self.field}:" if self.field else ""
        return f"{self.file} {self.location}:{field} {self.code.value}: {self.message}"


@dataclass(frozen=True, slots=True)
class ProblemTally:
    """The first problems found, in report order, and how many of each code there were in
    all: a bundle can hold a million problems, and nobody reads past the first screens."""

    listed: tuple[BundleProblem, ...]
    by_code: Mapping[BundleCode, int]

    @classmethod
    def of(cls, problems: Sequence[BundleProblem], *, listed_at_most: int) -> "ProblemTally":
        by_code: dict[BundleCode, int] = {}
        for problem in problems:
            by_code[problem.code] = by_code.get(problem.code, 0) + 1
        return cls(tuple(problems[:listed_at_most]), by_code)

    @property
    def total(self) -> int:
        return sum(self.by_code.values())


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import (or a dry run) found and did; `applied` only when nothing was wrong.

    `problems` may list only the first of them (`problem_counts` counts them all)."""

    problems: tuple[BundleProblem, ...]
    counts: Mapping[str, int]  # rows per entity in the bundle
    created: Mapping[str, int]  # per entity; empty on a dry run or with problems
    updated: Mapping[str, int]
    unchanged: Mapping[str, int]
    dry_run: bool
    problem_counts: Mapping[BundleCode, int] | None = None  # None: `problems` is all of them

    @property
    def problems_by_code(self) -> Mapping[BundleCode, int]:
        if self.problem_counts is not None:
            return self.problem_counts
        return ProblemTally.of(self.problems, listed_at_most=0).by_code

    @property
    def problem_total(self) -> int:
        return sum(self.problems_by_code.values())

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def applied(self) -> bool:
        return self.valid and not self.dry_run
