"""The demo network: a deterministic, realistic multi-hospital AP data set (pure: no I/O).

`apgraph seed`, the simulators, the tests and the benchmark all use it; `demo/writer.py`
loads it into a database. `generate` is pure: one seeded
`random.Random` and no clock (every date counts back from REFERENCE_DATE), so the same size
and seed give the same network on any machine.

The data tells one consistent story. Receipts follow orders; an invoice bills what was
received, at the PO or (cheaper) contract price, unless it went to EXCEPTION, and then its
findings name exactly what is off as the strictest tolerance would see it. Quantities are
cumulative per PO line, in the order invoices were received. Histories follow the lifecycle of
DESIGN §4; from posting on, the payment services' own rules take over (demo/settlement.py):
scheduling by terms, weekly payment runs under maker–checker, holds, payment exceptions and
remittance advice. Supplier activity is Zipf-skewed: SUP-000001, a med-surg distributor, is
always the busiest.
"""

import hashlib
import random
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from enum import Enum
from itertools import accumulate, pairwise
from typing import Any, NamedTuple, TypeVar, get_args, get_type_hints

from apgraph.demo.settlement import BankChange, Posted, settle
from apgraph.domain.attachments import Attachment
from apgraph.domain.codes import MatchCode, ValidationCode
from apgraph.domain.erp import MigrationMode
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.ids import (
    AttachmentId,
    ContractPriceId,
    EntityKind,
    FacilityId,
    GoodsReceiptId,
    InvoiceId,
    PurchaseOrderId,
    SupplierId,
    cost_center_for,
    numbered,
)
from apgraph.domain.invoices import (
    Approval,
    ApprovalDecision,
    Invoice,
    InvoiceException,
    InvoiceLine,
    InvoiceStatus,
    StatusChange,
)
from apgraph.domain.money import round_half_up
from apgraph.domain.payment_runs import PaymentRun
from apgraph.domain.payments import Payment, PaymentAllocation
from apgraph.domain.purchasing import (
    Category,
    ContractPrice,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from apgraph.domain.suppliers import (
    BankAccount,
    Contact,
    PaymentTerms,
    Supplier,
    SupplierStatus,
    TaxTreatment,
)
from apgraph.domain.systems import ExternalSystem

REFERENCE_DATE = date(2026, 11, 1)
CURRENCY = "USD"

_CUTOFF = datetime.combine(REFERENCE_DATE, time(), tzinfo=UTC)  # everything happened before it
_ORDER_WINDOW_DAYS = 300  # orders span the ~10 months before the reference date
_RECEIPT_LAG_DAYS = (1, 14)
_SPLIT_DELIVERY_LAG_DAYS = (1, 5)  # the rest of a split delivery, after the first part
# Suppliers bill after delivery: an invoice is dated after every receipt of its order.
_BILLING_LAG_DAYS = _RECEIPT_LAG_DAYS[1] + _SPLIT_DELIVERY_LAG_DAYS[1] + 1
_MAX_RECEIPT_DELAY_DAYS = 3  # from the invoice date to its arrival in AP
_DUPLICATE_WINDOW_DAYS = 7  # DESIGN §4's default
_CLOSE_AFTER_DAYS = 60
_SWEEP_MINUTES = (1, 15)  # from posting to the scheduler's sweep
_ZIPF_EXPONENT = 1.0
_RANDOM_TRIES = 40
_DAY = 24 * 60  # minutes

_ONE = Decimal(1)
_HALF = Decimal("0.5")
_ZERO_AMOUNT = Decimal("0.00")

_T = TypeVar("_T")

# The smallest network in which every supplier status and every lasting invoice status occurs.
_SMALLEST = {"facilities": 1, "suppliers": 10, "purchase_orders": 40, "invoices": 60}


@dataclass(frozen=True, slots=True)
class DemoSize:
    """How many of each to generate; the default is the demo server's and the benchmark's."""

    facilities: int = 6
    suppliers: int = 300
    purchase_orders: int = 3000
    invoices: int = 4000

    def __post_init__(self) -> None:
        for name, smallest in _SMALLEST.items():
            if getattr(self, name) < smallest:
                raise ValueError(
                    f"a demo network needs at least {smallest} {name} (so that every supplier "
                    f"and lasting invoice status occurs), got {getattr(self, name)}"
                )

    def scaled(self, factor: float) -> "DemoSize":
        """Every document count times `factor`, never below the smallest meaningful network.

        The facilities stay as they are: gateway.yaml routes each one to its ERP, so a smaller
        or larger demo means fewer or more suppliers and documents, not other hospitals.
        """
        return DemoSize(
            facilities=self.facilities,
            suppliers=max(round(self.suppliers * factor), _SMALLEST["suppliers"]),
            purchase_orders=max(round(self.purchase_orders * factor), _SMALLEST["purchase_orders"]),
            invoices=max(round(self.invoices * factor), _SMALLEST["invoices"]),
        )


@dataclass(frozen=True, slots=True)
class DemoNetwork:
    """Domain values only, each tuple in ID order; child rows are paired with their parent's ID."""

    facilities: tuple[Facility, ...]
    cost_centers: tuple[CostCenter, ...]
    suppliers: tuple[Supplier, ...]
    purchase_orders: tuple[PurchaseOrder, ...]
    purchase_order_lines: tuple[tuple[PurchaseOrderId, PurchaseOrderLine], ...]
    goods_receipts: tuple[GoodsReceipt, ...]
    contract_prices: tuple[ContractPrice, ...]
    invoices: tuple[Invoice, ...]
    invoice_lines: tuple[tuple[InvoiceId, InvoiceLine], ...]
    invoice_exceptions: tuple[tuple[InvoiceId, InvoiceException], ...]
    status_changes: tuple[StatusChange, ...]
    approvals: tuple[Approval, ...]
    attachments: tuple[Attachment, ...]
    attachment_contents: tuple[tuple[AttachmentId, bytes], ...]
    payment_runs: tuple[PaymentRun, ...]
    payments: tuple[Payment, ...]
    payment_allocations: tuple[PaymentAllocation, ...]
    bank_changes: tuple[BankChange, ...]  # remit-to accounts changed, and when


def generate(size: DemoSize, *, random_seed: int = 7, as_of: date | None = None) -> DemoNetwork:
    """The network for `size`; equal inputs give equal networks, whatever the day or machine.

    Dates count back from REFERENCE_DATE, or from `as_of` (the day a server seeds it, so the
    demo's exceptions are days old, not months): the whole network is moved by whole weeks,
    which keeps payment runs on their weekday and every interval between dates as it was.
    """
    network = _generate(size, random_seed=random_seed)
    if as_of is None:
        return network
    return shifted(network, days=(as_of - REFERENCE_DATE).days // 7 * 7)


def shifted(network: DemoNetwork, *, days: int) -> DemoNetwork:
    """Every date and time in the network moved by `days`; nothing else changes."""
    if days == 0:
        return network
    delta = timedelta(days=days)

    def moved(value: Any) -> Any:
        if isinstance(value, tuple):  # a (parent id, child) pair
            return tuple(moved(item) for item in value)
        kind = type(value)
        names = _DATED.get(kind)
        if names is None:
            names = _DATED[kind] = _dated_fields(kind)
        if not names:
            return value
        changed = {name: getattr(value, name) for name in names}
        return replace(value, **{k: v + delta for k, v in changed.items() if v is not None})

    return DemoNetwork(
        **{f.name: tuple(moved(item) for item in getattr(network, f.name)) for f in fields(network)}
    )


_DATED: dict[type, tuple[str, ...]] = {}  # per class: computed once, read per object


def _dated_fields(cls: type) -> tuple[str, ...]:
    """The fields of a domain dataclass that hold a date or a time (optional ones included)."""
    if not is_dataclass(cls):
        return ()
    hints = get_type_hints(cls)

    def dated(hint: Any) -> bool:
        if isinstance(hint, type) and issubclass(hint, date):
            return True
        return any(dated(argument) for argument in get_args(hint))

    return tuple(f.name for f in fields(cls) if dated(hints[f.name]))


def _generate(size: DemoSize, *, random_seed: int) -> DemoNetwork:
    rng = random.Random(random_seed)
    facilities = _facilities(size.facilities)
    chart = _Chart.of(facilities)
    catalog = _catalog(rng)
    vendors = _vendors(rng, size.suppliers, catalog)
    orders, prices = _purchase_orders(
        rng, size.purchase_orders, vendors, facilities, chart, catalog
    )
    receipts = _goods_receipts(rng, orders)
    items = {item.id: item for assortment in catalog.values() for item in assortment}
    contracts = _contract_prices(rng, orders, prices, items)
    billed = _Invoicing(rng, orders, contracts, chart, facilities, vendors, items).run(
        _plans(rng, size.invoices)
    )
    paid = settle(
        billed.posted,
        suppliers=[vendor.supplier for vendor in vendors],
        facilities=[facility.id for facility in facilities],
        erp_of={facility.id: demo_route(facility.id)[0] for facility in facilities},
        cutoff=_CUTOFF,
        rng=rng,
    )
    invoices = [paid.invoices.get(invoice.id, invoice) for invoice in billed.invoices]
    statuses = {invoice.id: invoice.status for invoice in invoices}
    changes = sorted([*billed.changes, *paid.changes], key=lambda c: (c.invoice_id, c.sequence))
    documents = _attachments(rng, invoices, vendors)
    return DemoNetwork(
        facilities=tuple(facilities),
        cost_centers=tuple(chart.cost_centers),
        suppliers=tuple(vendor.supplier for vendor in vendors),
        purchase_orders=tuple(
            replace(o.order, status=_settled_status(rng, o, statuses)) for o in orders
        ),
        purchase_order_lines=tuple((o.order.id, line) for o in orders for line in o.lines),
        goods_receipts=tuple(receipts),
        contract_prices=tuple(contract for group in contracts.values() for contract in group),
        invoices=tuple(invoices),
        invoice_lines=tuple(billed.lines),
        invoice_exceptions=tuple(billed.exceptions),
        status_changes=tuple(changes),
        approvals=tuple(billed.approvals),
        attachments=tuple(attachment for attachment, _ in documents),
        attachment_contents=tuple((attachment.id, content) for attachment, content in documents),
        payment_runs=paid.runs,
        payments=paid.payments,
        payment_allocations=paid.allocations,
        bank_changes=paid.bank_changes,
    )


# --- facilities and cost centers ------------------------------------------------------------


class _GlSegment(NamedTuple):
    code: str
    name: str
    spend: Category | None = None  # the category it is the usual charge for, if any
    active: bool = True
    second_approver: bool = False  # high-spend segments have two approvers


# Every facility has these; the inactive one is closed to new spend.
_GL_SEGMENTS = (
    _GlSegment("4410", "Surgical Services", Category.MEDICAL_SUPPLIES, second_approver=True),
    _GlSegment("4420", "Pharmacy", Category.PHARMACY, second_approver=True),
    _GlSegment("5200", "Biomedical Engineering", Category.BIOMED_SERVICE),
    _GlSegment("6100", "Facilities Operations", Category.FACILITY_OPS),
    _GlSegment("7300", "Clinical Services", Category.CLINICAL_SERVICE),
    _GlSegment("4470", "Outpatient Infusion Clinic", active=False),
)


class _Hospital(NamedTuple):
    name: str
    region: str
    timezone: str
    specialty: _GlSegment  # a service line only some facilities have


_CATH_LAB = _GlSegment("4450", "Cardiac Catheterization Lab")
_LABOR_AND_DELIVERY = _GlSegment("4460", "Labor and Delivery")
_ONCOLOGY = _GlSegment("4480", "Oncology Services")
_TRAUMA = _GlSegment("4490", "Trauma Services")
_HOSPITALS = (
    _Hospital("St. Mary's Medical Center", "Northeast", "America/New_York", _CATH_LAB),
    _Hospital("Mercy Regional Hospital", "Midwest", "America/Chicago", _LABOR_AND_DELIVERY),
    _Hospital("Providence Valley Hospital", "Pacific Northwest", "America/Los_Angeles", _ONCOLOGY),
    _Hospital("Good Samaritan Medical Center", "Mountain West", "America/Denver", _TRAUMA),
    _Hospital(
        "Lakeshore Children's Hospital",
        "Great Lakes",
        "America/Detroit",
        _GlSegment("4430", "Neonatal Intensive Care"),
    ),
    _Hospital(
        "Desert Springs Medical Center",
        "Southwest",
        "America/Phoenix",
        _GlSegment("4440", "Dialysis Unit"),
    ),
    _Hospital("Bayview Community Hospital", "Mid-Atlantic", "America/New_York", _CATH_LAB),
    _Hospital(
        "Sacred Heart Regional Medical Center",
        "Southeast",
        "America/New_York",
        _LABOR_AND_DELIVERY,
    ),
    _Hospital("Riverside University Hospital", "South Central", "America/Chicago", _TRAUMA),
    _Hospital(
        "Mountain View Rehabilitation Hospital",
        "Mountain West",
        "America/Boise",
        _GlSegment("7400", "Rehabilitation Therapy"),
    ),
    _Hospital("Pacific Coast Cancer Center", "California", "America/Los_Angeles", _ONCOLOGY),
    _Hospital("Island Health Medical Center", "Hawaii", "Pacific/Honolulu", _TRAUMA),
)

# Each demo facility's ERP and migration mode, stored with it (the columns routing reads):
# FAC-0004 and FAC-0005 on the cloud ERP, FAC-0003 shadowing it, every other facility on the
# legacy one, as the example gateway.yaml also lists them. Posted invoices carry the document
# number of their facility's ERP.
_CLOUD_ROUTE = (ExternalSystem.CLOUD_ERP, MigrationMode.CLOUD)
_DEMO_ROUTES = {
    "FAC-0003": (ExternalSystem.LEGACY_ERP, MigrationMode.SHADOW),
    "FAC-0004": _CLOUD_ROUTE,
    "FAC-0005": _CLOUD_ROUTE,
}
_LEGACY_ROUTE = (ExternalSystem.LEGACY_ERP, MigrationMode.LEGACY)
_LEGACY_ERP = ("LEG", 5_100_000)
_CLOUD_ERP = ("CLD", 9_000_000)


def demo_route(facility_id: str) -> tuple[ExternalSystem, MigrationMode]:
    """The ERP a demo facility posts to (its system of record) and its migration mode."""
    return _DEMO_ROUTES.get(facility_id, _LEGACY_ROUTE)


def _facilities(count: int) -> list[Facility]:
    facilities = []
    for index in range(count):
        hospital = _HOSPITALS[index % len(_HOSPITALS)]
        campus = index // len(_HOSPITALS)
        name = hospital.name if campus == 0 else f"{hospital.name}, Campus {campus + 1}"
        facilities.append(
            Facility(
                id=FacilityId(numbered(EntityKind.FACILITY, index + 1)),
                name=name,
                region=hospital.region,
                timezone=hospital.timezone,
            )
        )
    return facilities


@dataclass(frozen=True, slots=True)
class _Chart:
    """The cost centers of every facility, found by what they are charged for."""

    cost_centers: tuple[CostCenter, ...]
    by_id: Mapping[str, CostCenter]
    for_spend: Mapping[tuple[FacilityId, Category], CostCenter]
    active: Mapping[FacilityId, tuple[CostCenter, ...]]
    closed: Mapping[FacilityId, CostCenter]

    @classmethod
    def of(cls, facilities: Sequence[Facility]) -> "_Chart":
        centers: list[CostCenter] = []
        for_spend: dict[tuple[FacilityId, Category], CostCenter] = {}
        active: dict[FacilityId, tuple[CostCenter, ...]] = {}
        closed: dict[FacilityId, CostCenter] = {}
        for index, facility in enumerate(facilities):
            approver = f"approver.{facility.id.lower()}"
            specialty = _HOSPITALS[index % len(_HOSPITALS)].specialty
            here = []
            for segment in sorted((*_GL_SEGMENTS, specialty)):
                second = (f"approver2.{facility.id.lower()}",) if segment.second_approver else ()
                center = CostCenter(
                    id=cost_center_for(facility.id, segment.code),
                    facility_id=facility.id,
                    code=segment.code,
                    name=segment.name,
                    active=segment.active,
                    approvers=(approver, *second),
                )
                here.append(center)
                if not segment.active:
                    closed[facility.id] = center
                if segment.spend is not None:
                    for_spend[(facility.id, segment.spend)] = center
            centers += here
            active[facility.id] = tuple(center for center in here if center.active)
        return cls(tuple(centers), {c.id: c for c in centers}, for_spend, active, closed)


# --- the item catalog -----------------------------------------------------------------------


class _Product(NamedTuple):
    description: str
    unit: str
    dollars: tuple[int, int]  # list price range per unit
    quantity: tuple[int, int]  # a typical order, in `unit`


_PRODUCTS: dict[Category, tuple[str, tuple[_Product, ...]]] = {
    Category.MEDICAL_SUPPLIES: (
        "MS",
        (
            _Product("Nitrile exam gloves, powder-free, medium", "BX", (6, 14), (20, 400)),
            _Product("Nitrile exam gloves, powder-free, large", "BX", (6, 14), (20, 400)),
            _Product("Procedure mask, ASTM level 3", "BX", (8, 18), (10, 200)),
            _Product("Surgical gown, AAMI level 3, large", "CS", (70, 150), (2, 40)),
            _Product("IV start kit with chlorhexidine", "CS", (60, 140), (2, 30)),
            _Product("Polyglactin 910 suture, 3-0, 27 in", "BX", (90, 180), (1, 24)),
            _Product("Foley catheter tray, 16 Fr", "EA", (9, 22), (10, 200)),
            _Product("Sterile gauze sponge, 4 x 4 in, 12-ply", "CS", (25, 60), (2, 50)),
            _Product("Luer-lock syringe, 10 mL", "BX", (12, 30), (5, 120)),
            _Product("Safety hypodermic needle, 22G x 1 in", "BX", (8, 18), (5, 120)),
            _Product("Blood collection tube, 4 mL, K2EDTA", "BX", (20, 45), (5, 80)),
            _Product("Chlorhexidine skin prep applicator, 26 mL", "CS", (80, 160), (1, 20)),
            _Product("Electrosurgical pencil, rocker switch", "EA", (4, 9), (20, 300)),
            _Product("Negative pressure wound dressing kit, medium", "EA", (45, 110), (5, 60)),
        ),
    ),
    Category.PHARMACY: (
        "RX",
        (
            _Product("Cefazolin 1 g for injection, vial", "VIAL", (1, 6), (50, 600)),
            _Product("Heparin sodium 5,000 units/mL, 1 mL vial", "VIAL", (2, 12), (50, 500)),
            _Product("Ondansetron 4 mg/2 mL injection, vial", "VIAL", (1, 3), (50, 500)),
            _Product("Propofol 10 mg/mL, 20 mL vial", "VIAL", (5, 15), (25, 400)),
            _Product("Vancomycin 1 g for injection, vial", "VIAL", (6, 18), (25, 300)),
            _Product("Ceftriaxone 1 g for injection, vial", "VIAL", (1, 6), (50, 500)),
            _Product("Pantoprazole 40 mg for injection, vial", "VIAL", (3, 12), (25, 300)),
            _Product("Dexamethasone 4 mg/mL, 1 mL vial", "VIAL", (1, 3), (50, 500)),
            _Product("Insulin glargine 100 units/mL, 10 mL vial", "VIAL", (90, 300), (5, 60)),
            _Product("Enoxaparin 40 mg/0.4 mL prefilled syringe", "EA", (8, 25), (20, 300)),
            _Product("Acetaminophen 1,000 mg/100 mL IV bag", "EA", (10, 35), (20, 200)),
            _Product("Sodium chloride 0.9%, 1,000 mL bag, 12 per case", "CS", (30, 80), (5, 80)),
        ),
    ),
    Category.BIOMED_SERVICE: (
        "BM",
        (
            _Product("Preventive maintenance, infusion pumps", "HR", (95, 165), (4, 60)),
            _Product("Anesthesia machine calibration", "HR", (120, 210), (2, 24)),
            _Product("Patient monitor repair, on-site", "HR", (110, 190), (2, 30)),
            _Product("Ventilator performance verification", "HR", (120, 200), (2, 24)),
            _Product("Electrical safety testing, clinical equipment", "HR", (85, 140), (4, 40)),
            _Product("Defibrillator battery replacement", "EA", (180, 420), (2, 20)),
            _Product("Ultrasound transducer repair", "EA", (900, 2800), (1, 4)),
            _Product("Infusion pump battery pack", "EA", (60, 140), (5, 50)),
        ),
    ),
    Category.CLINICAL_SERVICE: (
        "CL",
        (
            _Product("Contract RN staffing, ICU", "HR", (85, 140), (12, 480)),
            _Product("Travel nurse, medical-surgical", "HR", (75, 120), (12, 480)),
            _Product("Locum tenens anesthesiologist", "HR", (250, 420), (8, 160)),
            _Product("Sterile processing technician staffing", "HR", (40, 70), (8, 320)),
            _Product("On-site interpreter services", "HR", (45, 90), (2, 80)),
            _Product("Reference laboratory testing, send-out panel", "EA", (20, 160), (10, 300)),
            _Product("Perfusion services, per case", "EA", (1200, 2500), (1, 12)),
        ),
    ),
    Category.FACILITY_OPS: (
        "FO",
        (
            _Product("HVAC filter replacement, MERV 13", "CS", (80, 220), (2, 40)),
            _Product("Medical gas system inspection", "HR", (95, 160), (2, 24)),
            _Product("Regulated medical waste pickup", "EA", (150, 450), (1, 12)),
            _Product("Generator load bank test", "EA", (900, 2500), (1, 2)),
            _Product("Elevator preventive maintenance", "HR", (110, 180), (2, 24)),
            _Product("Terminal cleaning, operating rooms", "HR", (35, 60), (8, 160)),
            _Product("LED troffer retrofit kit, 2 x 4 ft", "CS", (180, 420), (1, 20)),
            _Product("Linen service, 100 lb batch", "EA", (80, 160), (4, 60)),
        ),
    ),
}


@dataclass(frozen=True, slots=True)
class _Item:
    id: str
    description: str
    category: Category
    unit: str
    list_price: Decimal
    price_places: int  # drugs are priced per vial to the hundredth of a cent
    quantities: tuple[int, int]

    @property
    def step(self) -> Decimal:
        """Hours are ordered and billed by the half hour, everything else by the whole unit."""
        return _HALF if self.unit == "HR" else _ONE

    def order_quantity(self, rng: random.Random) -> Decimal:
        low, high = self.quantities
        return Decimal(rng.randint(int(low / self.step), int(high / self.step))) * self.step


def _catalog(rng: random.Random) -> dict[Category, tuple[_Item, ...]]:
    catalog = {}
    for category, (prefix, products) in _PRODUCTS.items():
        numbers = sorted(rng.sample(range(10000, 100000), len(products)))
        items = []
        for number, product in zip(numbers, products, strict=True):
            places = 4 if product.unit == "VIAL" else 2
            low, high = (dollars * 10**places for dollars in product.dollars)
            items.append(
                _Item(
                    id=f"ITM-{prefix}-{number}",
                    description=product.description,
                    category=category,
                    unit=product.unit,
                    list_price=Decimal(rng.randint(low, high)).scaleb(-places),
                    price_places=places,
                    quantities=product.quantity,
                )
            )
        catalog[category] = tuple(items)
    return catalog


# --- suppliers ------------------------------------------------------------------------------

_NAME_STEMS = (
    "Allied", "Apex", "Beacon", "Bluewater", "Bridgeport", "Cascade", "Clearwater", "Crescent",
    "Delta", "Evergreen", "Frontier", "Gateway", "Granite", "Harbor", "Heritage", "Horizon",
    "Ironwood", "Juniper", "Keystone", "Lakeside", "Landmark", "Liberty", "Magnolia", "Meridian",
    "Northstar", "Oakridge", "Pinnacle", "Pioneer", "Redwood", "Ridgeline", "Silverline",
    "Sterling", "Summit", "Tristate", "Unity", "Vantage", "Westbrook", "Everest", "Insight",
    "Quantum",
)  # fmt: skip
_NAME_TRADES: dict[Category, tuple[str, ...]] = {
    Category.MEDICAL_SUPPLIES: (
        "Medical Supply", "Surgical Products", "Healthcare Distribution", "Medical Products",
        "Surgical Supply",
    ),
    Category.PHARMACY: (
        "Pharmaceuticals", "Pharma", "Therapeutics", "Specialty Pharmacy", "Biologics",
    ),
    Category.BIOMED_SERVICE: (
        "Biomedical Services", "Clinical Engineering", "Imaging Service",
        "Medical Equipment Services", "Biomedical Solutions",
    ),
    Category.CLINICAL_SERVICE: (
        "Clinical Staffing", "Anesthesia Partners", "Laboratory Services", "Nurse Staffing",
        "Perfusion Services",
    ),
    Category.FACILITY_OPS: (
        "Facility Services", "Environmental Services", "Mechanical Contractors",
        "Building Services", "Waste Solutions",
    ),
}  # fmt: skip
_NAME_FORMS = ("Inc.", "LLC", "Corp.", "Co.", "Group", "Holdings, Inc.")
_FIRST_NAMES = (
    "Maria", "James", "Aisha", "Robert", "Priya", "David", "Keisha", "Michael", "Elena",
    "Thomas", "Mei", "Carlos", "Sarah", "Daniel", "Fatima", "Kevin", "Laura", "Ahmed",
    "Jennifer", "Brian",
)  # fmt: skip
_LAST_NAMES = (
    "Garcia", "Johnson", "Patel", "Nguyen", "Smith", "Kim", "Okafor", "Martinez", "Brown",
    "Chen", "Davis", "Rodriguez", "Wilson", "Hernandez", "Lee", "Thompson", "Clark", "Lopez",
    "Walker", "Young",
)  # fmt: skip
_CONTACT_ROLES = ("accounts receivable", "sales", "collections", "remittance")
_AREA_CODES = ("212", "312", "404", "415", "602", "617", "713", "303", "206", "919")
_BANKS = (
    "First Meridian Bank", "Harborline Bank", "Commonwealth Trust Company", "Prairie State Bank",
    "Pacific Crest Bank", "Granite Federal Savings", "Atlantic Commerce Bank",
)  # fmt: skip
_FED_DISTRICTS = (*range(1, 13), *range(21, 33))  # the first two digits of a routing number

# The first vendors buy one of each category, so every category is on order from the start.
_LEADING_CATEGORIES = (
    Category.MEDICAL_SUPPLIES,
    Category.PHARMACY,
    Category.CLINICAL_SERVICE,
    Category.FACILITY_OPS,
    Category.BIOMED_SERVICE,
)
_CATEGORY_SHARES = {
    Category.MEDICAL_SUPPLIES: 0.40,
    Category.PHARMACY: 0.20,
    Category.BIOMED_SERVICE: 0.12,
    Category.CLINICAL_SERVICE: 0.13,
    Category.FACILITY_OPS: 0.15,
}
# Prescription drugs and most clinical services are not taxed; supplies mostly are.
_EXEMPT_SHARES = {
    Category.MEDICAL_SUPPLIES: 0.10,
    Category.PHARMACY: 0.80,
    Category.BIOMED_SERVICE: 0.20,
    Category.CLINICAL_SERVICE: 0.50,
    Category.FACILITY_OPS: 0.20,
}
_TAX_RATES = (Decimal("0.0625"), Decimal("0.0725"), Decimal("0.0825"))
_SUPPLIER_STATUS_SHARES = {
    SupplierStatus.ACTIVE: 0.85,
    SupplierStatus.ON_HOLD: 0.06,
    SupplierStatus.BLOCKED: 0.05,
    SupplierStatus.ONBOARDING: 0.04,
}
_TERMS_SHARES = {
    PaymentTerms.NET30: 0.44,
    PaymentTerms.NET30_2_10: 0.06,
    PaymentTerms.NET45: 0.15,
    PaymentTerms.NET15: 0.13,
    PaymentTerms.NET60: 0.12,
    PaymentTerms.DUE_ON_RECEIPT: 0.10,
}
_INVOICE_NUMBER_FORMATS = ("{letter}-{n}", "INV-{n:06d}", "{n:07d}", "{year}-{n:05d}")


@dataclass(frozen=True, slots=True)
class _Vendor:
    """A supplier with what the generator needs to know about its business."""

    supplier: Supplier
    category: Category
    weight: float  # share of purchasing, Zipf by rank; 0 while onboarding
    number_format: str  # the supplier's own invoice numbering, e.g. "A-{n}"
    first_number: int
    assortment: tuple[_Item, ...]


def _vendors(
    rng: random.Random, count: int, catalog: Mapping[Category, Sequence[_Item]]
) -> list[_Vendor]:
    leaders = len(_LEADING_CATEGORIES)
    statuses = [SupplierStatus.ACTIVE] * leaders
    statuses += _allotment(rng, count - leaders, _SUPPLIER_STATUS_SHARES)
    taken: set[str] = set()
    vendors = []
    for index, status in enumerate(statuses):
        number = index + 1
        category = (
            _LEADING_CATEGORIES[index] if index < leaders else _weighted(rng, _CATEGORY_SHARES)
        )
        name, domain = _company(rng, category, taken, number)
        exempt = rng.random() < _EXEMPT_SHARES[category]
        banked = rng.random() < (0.5 if status is SupplierStatus.ONBOARDING else 0.93)
        supplier = Supplier(
            id=SupplierId(numbered(EntityKind.SUPPLIER, number)),
            legal_name=name,
            tax_id=f"{rng.randint(10, 99)}-{rng.randint(0, 9_999_999):07d}",
            status=status,
            payment_terms=_weighted(rng, _TERMS_SHARES),
            tax_treatment=TaxTreatment.EXEMPT if exempt else TaxTreatment.STANDARD,
            tax_rate=Decimal(0) if exempt else rng.choice(_TAX_RATES),
            remit_to=_bank_account(rng) if banked else None,
            contacts=tuple(_contact(rng, domain) for _ in range(rng.randint(1, 2))),
        )
        offered = catalog[category]
        carried = len(offered) if index == 0 else min(len(offered), rng.randint(4, 10))
        vendors.append(
            _Vendor(
                supplier=supplier,
                category=category,
                weight=0.0 if status is SupplierStatus.ONBOARDING else number**-_ZIPF_EXPONENT,
                number_format=rng.choice(_INVOICE_NUMBER_FORMATS).replace(
                    "{letter}", chr(ord("A") + rng.randrange(26))
                ),
                first_number=rng.randint(1000, 60000),
                assortment=tuple(rng.sample(offered, carried)),
            )
        )
    return vendors


def _company(
    rng: random.Random, category: Category, taken: set[str], number: int
) -> tuple[str, str]:
    """A legal name not used yet, and the e-mail domain that goes with it."""
    for _ in range(_RANDOM_TRIES):
        stem, trade = rng.choice(_NAME_STEMS), rng.choice(_NAME_TRADES[category])
        name = f"{stem} {trade} {rng.choice(_NAME_FORMS)}"
        if name not in taken:
            break
    else:
        name = f"{name} No. {number}"
    taken.add(name)
    return name, f"{stem}{trade.split()[0]}.com".lower()


def _bank_account(rng: random.Random) -> BankAccount:
    district = rng.choice(_FED_DISTRICTS)
    digits = [district // 10, district % 10, *(rng.randint(0, 9) for _ in range(6))]
    # ABA checksum: the digits weighted 3, 7, 1, 3, 7, 1, 3, 7, 1 sum to a multiple of ten.
    weighted = sum(
        weight * digit for weight, digit in zip((3, 7, 1, 3, 7, 1, 3, 7), digits, strict=True)
    )
    digits.append(-weighted % 10)
    account = str(rng.randint(1, 9)) + "".join(
        str(rng.randint(0, 9)) for _ in range(rng.randint(9, 11))
    )
    return BankAccount(
        bank_name=rng.choice(_BANKS),
        routing_number="".join(map(str, digits)),
        account_number=account,
    )


def _contact(rng: random.Random, domain: str) -> Contact:
    first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
    phone = f"+1 {rng.choice(_AREA_CODES)} 555 01{rng.randint(0, 99):02d}"  # 555-01xx: fictional
    return Contact(
        name=f"{first} {last}",
        email=f"{first}.{last}@{domain}".lower(),
        phone=phone if rng.random() < 0.85 else None,
        role=rng.choice(_CONTACT_ROLES),
    )


# --- purchasing -----------------------------------------------------------------------------

_LINES_PER_ORDER = {1: 0.30, 2: 0.25, 3: 0.20, 4: 0.15, 5: 0.10}
_CANCELLED_SHARE = 0.02
_STRAY_LINE_SHARE = 0.08  # a line from outside the supplier's category
_PRICE_DRIFT_SHARE = 0.10  # a line priced a little off the supplier's usual price
_OFF_CENTER_SHARE = 0.10  # an order charged to any active cost center, specialties too
_NOT_RECEIVED_SHARE = 0.10
_PARTLY_RECEIVED_SHARE = 0.10
_SPLIT_DELIVERY_SHARE = 0.15


@dataclass(slots=True)
class _Order:
    """A PO while the network is built: per line, what arrived and what was billed so far."""

    order: PurchaseOrder
    vendor: _Vendor
    lines: tuple[PurchaseOrderLine, ...]
    received: list[Decimal]
    billed: list[Decimal]  # by invoices that were not rejected, in the order they came in
    billed_by: list[InvoiceId]  # the invoices that billed it

    @property
    def cancelled(self) -> bool:
        return self.order.status is PurchaseOrderStatus.CANCELLED

    def open_quantity(self, index: int) -> Decimal:
        """Received but not billed yet: what a clean invoice may still bill."""
        return self.received[index] - self.billed[index]


def _purchase_orders(
    rng: random.Random,
    count: int,
    vendors: Sequence[_Vendor],
    facilities: Sequence[Facility],
    chart: _Chart,
    catalog: Mapping[Category, Sequence[_Item]],
) -> tuple[list[_Order], dict[tuple[str, str], Decimal]]:
    """Orders oldest first, and each supplier's usual price per item."""
    buying = [vendor for vendor in vendors if vendor.weight > 0]
    chosen = rng.choices(buying, cum_weights=list(accumulate(v.weight for v in buying)), k=count)
    chosen[: len(_LEADING_CATEGORIES)] = vendors[: len(_LEADING_CATEGORIES)]
    ages = sorted((rng.randint(1, _ORDER_WINDOW_DAYS) for _ in range(count - 1)), reverse=True)
    # The window opens with the first order, so the oldest invoices always have one to bill.
    ages.insert(0, _ORDER_WINDOW_DAYS)
    # A flagship and smaller sites: the first facilities order more.
    facility_weights = [1 / (1 + 0.25 * index) for index in range(len(facilities))]
    other_items = {
        category: [item for other, items in catalog.items() if other != category for item in items]
        for category in Category
    }
    prices: dict[tuple[str, str], Decimal] = {}
    orders = []
    for number, (vendor, age) in enumerate(zip(chosen, ages, strict=True), start=1):
        facility = rng.choices(facilities, weights=facility_weights)[0]
        center = chart.for_spend[(facility.id, vendor.category)]
        if rng.random() < _OFF_CENTER_SHARE:
            center = rng.choice(chart.active[facility.id])
        ordered_on = REFERENCE_DATE - timedelta(days=age)
        wanted = _weighted(rng, _LINES_PER_ORDER)
        items = rng.sample(vendor.assortment, min(wanted, len(vendor.assortment)))
        for position in range(len(items)):
            if rng.random() < _STRAY_LINE_SHARE:
                stray = rng.choice(other_items[vendor.category])
                if stray not in items:
                    items[position] = stray
        lines = tuple(
            _order_line(rng, line_no, item, _usual_price(rng, prices, vendor, item))
            for line_no, item in enumerate(items, start=1)
        )
        cancelled = rng.random() < _CANCELLED_SHARE
        order = PurchaseOrder(
            id=PurchaseOrderId(numbered(EntityKind.PURCHASE_ORDER, number, year=ordered_on.year)),
            supplier_id=vendor.supplier.id,
            facility_id=facility.id,
            cost_center_id=center.id,
            status=PurchaseOrderStatus.CANCELLED if cancelled else PurchaseOrderStatus.OPEN,
            currency=CURRENCY,
            ordered_on=ordered_on,
        )
        zeros = [Decimal(0)] * len(lines)
        orders.append(_Order(order, vendor, lines, list(zeros), list(zeros), []))
    return orders, prices


def _usual_price(
    rng: random.Random, prices: dict[tuple[str, str], Decimal], vendor: _Vendor, item: _Item
) -> Decimal:
    key = (vendor.supplier.id, item.id)
    if key not in prices:
        prices[key] = _percent_off(item.list_price, rng.randint(-8, 8), item.price_places)
    return prices[key]


def _order_line(rng: random.Random, line_no: int, item: _Item, price: Decimal) -> PurchaseOrderLine:
    if rng.random() < _PRICE_DRIFT_SHARE:
        price = _percent_off(price, rng.choice((-3, -2, -1, 1, 2, 3)), item.price_places)
    return PurchaseOrderLine(
        line_no=line_no,
        item_id=item.id,
        description=item.description,
        category=item.category,
        quantity=item.order_quantity(rng),
        unit_of_measure=item.unit,
        unit_price=price,
    )


def _goods_receipts(rng: random.Random, orders: Sequence[_Order]) -> list[GoodsReceipt]:
    """Receipts numbered in the order they were booked; records them on the orders too."""
    booked: list[tuple[datetime, PurchaseOrderId, int, Decimal]] = []
    for order in orders:
        if order.cancelled:
            continue
        for index, line in enumerate(order.lines):
            step = _step(line)
            roll = rng.random()
            if roll < _NOT_RECEIVED_SHARE:
                continue
            quantity = line.quantity
            if roll < _NOT_RECEIVED_SHARE + _PARTLY_RECEIVED_SHARE:
                quantity = _part(rng, line.quantity, step) or quantity
            pieces = [quantity]
            if rng.random() < _SPLIT_DELIVERY_SHARE and (first := _part(rng, quantity, step)):
                pieces = [first, quantity - first]
            arrives = order.order.ordered_on + timedelta(days=rng.randint(*_RECEIPT_LAG_DAYS))
            for piece in pieces:
                at = _moment(rng, arrives)
                if at >= _CUTOFF:
                    break  # still on its way
                booked.append((at, order.order.id, line.line_no, piece))
                order.received[index] += piece
                arrives += timedelta(days=rng.randint(*_SPLIT_DELIVERY_LAG_DAYS))
    booked.sort()
    return [
        GoodsReceipt(
            id=GoodsReceiptId(numbered(EntityKind.GOODS_RECEIPT, number)),
            purchase_order_id=order_id,
            line_no=line_no,
            quantity=quantity,
            received_at=at,
        )
        for number, (at, order_id, line_no, quantity) in enumerate(booked, start=1)
    ]


_CONTRACTED_SHARE = {category: 0.5 for category in Category} | {Category.PHARMACY: 0.9}
_RENEWED_SHARE = 0.7


def _contract_prices(
    rng: random.Random,
    orders: Sequence[_Order],
    prices: Mapping[tuple[str, str], Decimal],
    items: Mapping[str, _Item],
) -> dict[tuple[str, str], list[ContractPrice]]:
    """Contracts per (supplier, item), oldest first; pharmacy is almost always contracted."""
    contracts: dict[tuple[str, str], list[ContractPrice]] = {}
    count = 0
    for order in orders:
        for line in order.lines:
            key = (order.order.supplier_id, line.item_id)
            if key in contracts:
                continue
            contracts[key] = []
            if rng.random() >= _CONTRACTED_SHARE[line.category]:
                continue
            places = items[line.item_id].price_places
            price = prices[key]
            if rng.random() >= 0.65:
                price = _percent_off(price, rng.randint(-4, 3), places)
            valid_from = REFERENCE_DATE - timedelta(days=rng.randint(60, 480))
            terms = [(valid_from, rng.choice((365, 730)), price)]
            expires = valid_from + timedelta(days=terms[0][1] - 1)
            if expires < REFERENCE_DATE and rng.random() < _RENEWED_SHARE:
                renewal = _percent_off(price, rng.randint(0, 4), places)
                terms.append((expires + timedelta(days=1), 365, renewal))
            for start, days, agreed in terms:
                count += 1
                contracts[key].append(
                    ContractPrice(
                        id=ContractPriceId(numbered(EntityKind.CONTRACT_PRICE, count)),
                        supplier_id=order.order.supplier_id,
                        item_id=line.item_id,
                        unit_price=agreed,
                        currency=CURRENCY,
                        valid_from=start,
                        valid_to=start + timedelta(days=days - 1),
                    )
                )
    return {key: found for key, found in contracts.items() if found}


def _settled_status(
    rng: random.Random, order: _Order, statuses: Mapping[InvoiceId, InvoiceStatus]
) -> PurchaseOrderStatus:
    """The status receipts and billing leave the order in; fully paid old orders get closed."""
    if order.cancelled:
        return PurchaseOrderStatus.CANCELLED
    if all(received == 0 for received in order.received):
        return PurchaseOrderStatus.OPEN
    if any(r < line.quantity for r, line in zip(order.received, order.lines, strict=True)):
        return PurchaseOrderStatus.PARTIALLY_RECEIVED
    paid_in_full = (
        bool(order.billed_by)
        and all(b == line.quantity for b, line in zip(order.billed, order.lines, strict=True))
        and all(statuses[i] is InvoiceStatus.REMITTED for i in order.billed_by)
    )
    old = order.order.ordered_on <= REFERENCE_DATE - timedelta(days=_CLOSE_AFTER_DAYS)
    if paid_in_full and old and rng.random() < 0.8:
        return PurchaseOrderStatus.CLOSED
    return PurchaseOrderStatus.RECEIVED


# --- invoice plans: status, history and dates, before any document is drawn -----------------

_INVOICE_STATUS_SHARES = {
    InvoiceStatus.RECEIVED: 0.04,
    InvoiceStatus.VALIDATED: 0.06,
    InvoiceStatus.EXCEPTION: 0.06,
    InvoiceStatus.ON_HOLD: 0.02,
    InvoiceStatus.REJECTED: 0.05,
    InvoiceStatus.POSTED: 0.12,
    InvoiceStatus.POSTING_FAILED: 0.02,
    InvoiceStatus.SCHEDULED: 0.12,
    InvoiceStatus.REMITTED: 0.51,
}
# No invoice rests MATCHED: the request that matches an invoice posts it, so one left MATCHED
# is a posting a crash interrupted, which a starting server warns about and posts
# (services/posting_recovery.py). The demo's invoices on their way to the ERP wait VALIDATED
# instead, for the re-match loop (materials management was down), which a start resumes
# without alarm.
# An invoice planned SCHEDULED or REMITTED is posted and swept by the scheduler; what the
# payment services then did with it (demo/settlement.py) decides where it ends: REMITTED once
# a run paid it, SCHEDULED while its pay date is ahead, its payment held or returned. PAID
# never lasts: confirmation moves an invoice PAID and REMITTED at once.
# How many days before the reference date an invoice in each status was dated.
_AGE_DAYS = {
    InvoiceStatus.RECEIVED: (1, 2),
    InvoiceStatus.VALIDATED: (1, 3),
    InvoiceStatus.EXCEPTION: (1, 30),
    InvoiceStatus.ON_HOLD: (5, 60),
    InvoiceStatus.REJECTED: (1, 270),
    InvoiceStatus.POSTED: (2, 20),
    InvoiceStatus.POSTING_FAILED: (1, 7),
    InvoiceStatus.SCHEDULED: (8, 40),
    InvoiceStatus.REMITTED: (30, 270),
}
_DAYS_FOR_A_HOLD = 12  # younger invoices have not had time to be held and released
_UP_TO_MATCH = (InvoiceStatus.RECEIVED, InvoiceStatus.VALIDATED, InvoiceStatus.MATCHED)
_PAYMENT_STEPS = (InvoiceStatus.SCHEDULED, InvoiceStatus.REMITTED)
_POSTED_OR_LATER = frozenset({InvoiceStatus.POSTED, *_PAYMENT_STEPS})
_NON_PO_SHARE = 0.02


class _Route(Enum):
    """What kind of document a plan needs."""

    CLEAN = "bills what was received, at the agreed price"
    NON_PO = "bills without a purchase order"
    EXCEPTION = "has a finding an approver must look at"
    INVALID = "fails validation"


@dataclass(frozen=True, slots=True)
class _Plan:
    status: InvoiceStatus
    path: tuple[InvoiceStatus, ...]  # every status it went through, RECEIVED first
    invoice_date: date
    received_at: datetime
    route: _Route


def _plans(rng: random.Random, count: int) -> list[_Plan]:
    """Plans in the order the invoices were received, which is the order of their IDs."""
    plans = []
    for status in _allotment(rng, count, _INVOICE_STATUS_SHARES):
        age = rng.randint(*_AGE_DAYS[status])
        path = _lifecycle(rng, status, age)
        invoice_date = REFERENCE_DATE - timedelta(days=age)
        delay = rng.randint(0, min(_MAX_RECEIPT_DELAY_DAYS, age - 1))
        received_at = _moment(rng, invoice_date + timedelta(days=delay))
        if path == (InvoiceStatus.RECEIVED, InvoiceStatus.REJECTED):
            route = _Route.INVALID
        elif InvoiceStatus.EXCEPTION in path:
            route = _Route.EXCEPTION
        else:
            route = _Route.NON_PO if rng.random() < _NON_PO_SHARE else _Route.CLEAN
        plans.append(_Plan(status, path, invoice_date, received_at, route))
    plans.sort(key=lambda plan: plan.received_at)
    return plans


def _lifecycle(rng: random.Random, status: InvoiceStatus, age: int) -> tuple[InvoiceStatus, ...]:
    """One history along DESIGN §4 that ends in `status`; long detours only where time allowed."""
    exception: tuple[InvoiceStatus, ...] = (InvoiceStatus.EXCEPTION,)
    held = exception
    if age >= _DAYS_FOR_A_HOLD:
        held = (InvoiceStatus.EXCEPTION, InvoiceStatus.ON_HOLD, InvoiceStatus.EXCEPTION)
    if status in _UP_TO_MATCH:
        return _UP_TO_MATCH[: _UP_TO_MATCH.index(status) + 1]
    if status is InvoiceStatus.EXCEPTION:
        return _UP_TO_MATCH + (held if rng.random() < 0.25 else exception)
    if status is InvoiceStatus.ON_HOLD:
        return (*_UP_TO_MATCH, InvoiceStatus.EXCEPTION, InvoiceStatus.ON_HOLD)
    if status is InvoiceStatus.REJECTED:
        if rng.random() < 0.7:
            return (InvoiceStatus.RECEIVED, InvoiceStatus.REJECTED)
        return (*_UP_TO_MATCH, InvoiceStatus.EXCEPTION, InvoiceStatus.REJECTED)
    failed = (InvoiceStatus.POSTED, InvoiceStatus.POSTING_FAILED)
    if status is InvoiceStatus.POSTING_FAILED:
        return _UP_TO_MATCH + (exception if rng.random() < 0.2 else ()) + failed
    roll = rng.random()
    posted: tuple[InvoiceStatus, ...]
    if roll < 0.13:
        posted = (*_UP_TO_MATCH, *exception, InvoiceStatus.POSTED)
    elif roll < 0.16:
        posted = (*_UP_TO_MATCH, *held, InvoiceStatus.POSTED)
    elif roll < 0.20:
        posted = (*_UP_TO_MATCH, *failed, InvoiceStatus.POSTED)  # replayed from dead letters
    else:
        posted = (*_UP_TO_MATCH, InvoiceStatus.POSTED)
    return posted  # the payment steps follow in demo/settlement.py


# --- invoicing ------------------------------------------------------------------------------


_MISMATCH_SHARES = {
    MatchCode.PRICE_VARIANCE: 0.30,
    MatchCode.QTY_VARIANCE: 0.25,
    MatchCode.MISSING_RECEIPT: 0.20,
    MatchCode.CONTRACT_PRICE_VARIANCE: 0.15,
    MatchCode.OVER_BILLED: 0.10,
}
_INVALID_SHARES = {
    ValidationCode.DUPLICATE_INVOICE: 0.40,
    ValidationCode.PO_CLOSED: 0.20,
    ValidationCode.SUPPLIER_BLOCKED: 0.20,
    ValidationCode.COST_CENTER_INVALID: 0.20,
}
_PARTIAL_BILLING_SHARE = 0.35
_SECOND_LINE_SHARE = 0.5  # an exception invoice also bills other lines of its order cleanly

_GAP_MINUTES: dict[tuple[InvoiceStatus, InvoiceStatus], tuple[int, int]] = {
    (InvoiceStatus.RECEIVED, InvoiceStatus.VALIDATED): (1, 20),
    (InvoiceStatus.RECEIVED, InvoiceStatus.REJECTED): (1, 20),
    (InvoiceStatus.VALIDATED, InvoiceStatus.MATCHED): (1, 120),
    (InvoiceStatus.MATCHED, InvoiceStatus.POSTED): (2, 60),
    (InvoiceStatus.MATCHED, InvoiceStatus.EXCEPTION): (1, 3),
    (InvoiceStatus.EXCEPTION, InvoiceStatus.POSTED): (120, 6 * _DAY),
    (InvoiceStatus.EXCEPTION, InvoiceStatus.REJECTED): (240, 5 * _DAY),
    (InvoiceStatus.EXCEPTION, InvoiceStatus.ON_HOLD): (120, 3 * _DAY),
    (InvoiceStatus.ON_HOLD, InvoiceStatus.EXCEPTION): (_DAY, 10 * _DAY),
    (InvoiceStatus.POSTED, InvoiceStatus.POSTING_FAILED): (15, 45),
    (InvoiceStatus.POSTING_FAILED, InvoiceStatus.POSTED): (120, 3 * _DAY),
}
# How long before the cutoff an invoice must have been posted to be as far along as its status.
_POSTED_BEFORE_CUTOFF = {
    InvoiceStatus.SCHEDULED: timedelta(days=2),
    InvoiceStatus.REMITTED: timedelta(days=5),
}
_DECISIONS = {
    (InvoiceStatus.EXCEPTION, InvoiceStatus.POSTED): ApprovalDecision.APPROVED,
    (InvoiceStatus.EXCEPTION, InvoiceStatus.REJECTED): ApprovalDecision.REJECTED,
    (InvoiceStatus.EXCEPTION, InvoiceStatus.ON_HOLD): ApprovalDecision.HELD,
    (InvoiceStatus.ON_HOLD, InvoiceStatus.EXCEPTION): ApprovalDecision.RELEASED,
}
_DECISION_NOTES = {
    ApprovalDecision.APPROVED: (
        "Price increase confirmed with the buyer",
        "Quantity confirmed by the receiving dock",
        "Service hours verified by the department manager",
        None,
    ),
    ApprovalDecision.REJECTED: (
        "Billed above the agreed terms; supplier to reissue",
        "Goods never arrived; supplier notified",
    ),
    ApprovalDecision.HELD: (
        "Waiting for the corrected packing slip",
        "Disputed with the supplier's account manager",
    ),
    ApprovalDecision.RELEASED: ("Supplier sent the missing documentation", None),
}
_SYSTEM_STEPS: dict[tuple[InvoiceStatus, InvoiceStatus], tuple[str, str | None]] = {
    (InvoiceStatus.RECEIVED, InvoiceStatus.VALIDATED): ("apgraph.validation", None),
    (InvoiceStatus.VALIDATED, InvoiceStatus.MATCHED): ("apgraph.matching", None),
    (InvoiceStatus.MATCHED, InvoiceStatus.POSTED): ("apgraph.posting", None),
    (InvoiceStatus.POSTED, InvoiceStatus.POSTING_FAILED): (
        "apgraph.posting",
        "ERP unavailable after every retry; moved to dead letters",
    ),
    (InvoiceStatus.POSTING_FAILED, InvoiceStatus.POSTED): (
        "finance.admin",
        "Replayed from dead letters",
    ),
}


class _Billed(NamedTuple):
    """One invoice line against a PO line (by index), as billed."""

    line_index: int  # of the PO line
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class _Draft:
    """An invoice's content before its ID, numbers and history are settled."""

    vendor: _Vendor
    facility_id: FacilityId
    cost_center: CostCenter
    order: _Order | None
    billed: tuple[_Billed, ...]  # empty for a non-PO invoice
    lines: tuple[InvoiceLine, ...]
    findings: tuple[InvoiceException, ...]


class _Issued(NamedTuple):
    invoice: Invoice
    draft: _Draft


@dataclass(slots=True)
class _Invoiced:
    invoices: list[Invoice]
    lines: list[tuple[InvoiceId, InvoiceLine]]
    exceptions: list[tuple[InvoiceId, InvoiceException]]
    changes: list[StatusChange]
    approvals: list[Approval]
    posted: list[Posted]  # invoices the scheduler swept, for the payment services to take on


class _Invoicing:
    """Draws each planned invoice, in the order they were received.

    That order keeps cumulative quantities honest: an invoice bills against what invoices
    received before it left open, as DESIGN §4 matches them.
    """

    def __init__(
        self,
        rng: random.Random,
        orders: Sequence[_Order],
        contracts: Mapping[tuple[str, str], Sequence[ContractPrice]],
        chart: _Chart,
        facilities: Sequence[Facility],
        vendors: Sequence[_Vendor],
        items: Mapping[str, _Item],
    ) -> None:
        self._rng = rng
        self._orders = orders
        self._order_days = [order.order.ordered_on for order in orders]
        self._contracts = contracts
        self._chart = chart
        self._facilities = facilities
        self._items = items
        self._active = [v for v in vendors if v.supplier.status is SupplierStatus.ACTIVE]
        self._active_weights = list(accumulate(vendor.weight for vendor in self._active))
        self._next_number = {vendor.supplier.id: vendor.first_number for vendor in vendors}
        self._latest: dict[SupplierId, _Issued] = {}
        self._documents = dict.fromkeys((_LEGACY_ERP, _CLOUD_ERP), 0)

    def run(self, plans: Sequence[_Plan]) -> _Invoiced:
        out = _Invoiced([], [], [], [], [], [])
        for number, plan in enumerate(plans, start=1):
            invoice_id = InvoiceId(numbered(EntityKind.INVOICE, number))
            draft = self._draft(plan)
            invoice = self._invoice(invoice_id, plan, draft)
            times = self._timeline(plan)
            self._history(invoice, plan.path, times, draft, out)
            out.invoices.append(invoice)
            out.lines += [(invoice_id, line) for line in draft.lines]
            out.exceptions += [(invoice_id, finding) for finding in draft.findings]
            if plan.status in _PAYMENT_STEPS:
                swept_at = times[-1] + timedelta(minutes=self._rng.randint(*_SWEEP_MINUTES))
                out.posted.append(Posted(invoice, swept_at, len(plan.path)))
            if plan.status is not InvoiceStatus.REJECTED:
                self._latest[invoice.supplier_id] = _Issued(invoice, draft)
                if draft.order is not None:
                    for billed in draft.billed:
                        draft.order.billed[billed.line_index] += billed.quantity
                    draft.order.billed_by.append(invoice.id)
        return out

    # drafts

    def _draft(self, plan: _Plan) -> _Draft:
        latest_order_day = plan.invoice_date - timedelta(days=_BILLING_LAG_DAYS)
        limit = max(bisect_right(self._order_days, latest_order_day), 1)
        if plan.route is _Route.INVALID:
            return self._invalid(plan, limit)
        if plan.route is _Route.EXCEPTION:
            return self._exceptional(plan, limit)
        if plan.route is _Route.CLEAN and (clean := self._clean(plan, limit)) is not None:
            return clean
        return self._non_po()

    def _clean(self, plan: _Plan, limit: int) -> _Draft | None:
        def billable(order: _Order) -> bool:
            return self._may_bill(order, plan.status) and any(
                order.open_quantity(index) > 0 for index in range(len(order.lines))
            )

        order = self._find(limit, billable)
        if order is None:
            return None
        return self._po_draft(order, self._fair_bill(order, plan.invoice_date))

    def _exceptional(self, plan: _Plan, limit: int) -> _Draft:
        day = plan.invoice_date
        wanted = _weighted(self._rng, _MISMATCH_SHARES)
        odd = None
        for mismatch in (wanted, MatchCode.PRICE_VARIANCE):
            found = self._find_line(limit, plan.status, mismatch, day)
            if found is not None:
                order, index = found
                odd = self._odd_line(mismatch, order, index, day)
                break
        if odd is None:  # nothing left to bill anywhere: overcharge one unit of some order
            order = self._orders[self._rng.randrange(limit)]
            line = order.lines[0]
            places = self._items[line.item_id].price_places
            odd = _Billed(0, _step(line), _percent_off(line.unit_price, 5, places))
        others = []
        if self._rng.random() < _SECOND_LINE_SHARE:
            others = self._fair_bill(order, day, exclude=odd.line_index)
        billed = sorted([odd, *others])
        findings = [
            finding
            for line_no, entry in enumerate(billed, start=1)
            for finding in self._findings(order, entry, line_no, day)
        ]
        return self._po_draft(order, billed, findings)

    def _invalid(self, plan: _Plan, limit: int) -> _Draft:
        wanted = _weighted(self._rng, _INVALID_SHARES)
        draft = None
        if wanted is ValidationCode.DUPLICATE_INVOICE:
            draft = self._duplicate(plan, limit)
        elif wanted is ValidationCode.PO_CLOSED:
            order = self._find(limit, lambda order: order.cancelled)
            if order is not None:
                message = f"{order.order.id} is cancelled"
                draft = self._po_draft(order, _in_full(order), [_problem(wanted, message)])
        elif wanted is ValidationCode.SUPPLIER_BLOCKED:
            order = self._find(limit, _blocked)
            if order is not None:
                message = f"{order.order.supplier_id} is blocked"
                draft = self._po_draft(order, _in_full(order), [_problem(wanted, message)])
        if draft is not None:
            return draft
        # The supplier charged a cost center the facility has closed.
        order = self._find(limit, lambda order: self._may_bill(order, plan.status))
        order = order or self._orders[self._rng.randrange(limit)]
        closed = self._chart.closed[order.order.facility_id]
        problem = _problem(
            ValidationCode.COST_CENTER_INVALID, f"cost center {closed.id} is inactive"
        )
        return self._po_draft(order, _in_full(order), [problem], cost_center=closed)

    def _duplicate(self, plan: _Plan, limit: int) -> _Draft | None:
        """The same bill again under a new number: same supplier, currency and total."""

        def billed_lately(order: _Order) -> bool:
            latest = self._latest.get(order.order.supplier_id)
            return (
                latest is not None
                and self._may_bill(order, plan.status)
                and abs((latest.invoice.invoice_date - plan.invoice_date).days)
                <= _DUPLICATE_WINDOW_DAYS
            )

        order = self._find(limit, billed_lately)
        if order is None:
            return None
        original = self._latest[order.order.supplier_id]
        days = abs((original.invoice.invoice_date - plan.invoice_date).days)
        message = (
            f"same supplier, currency and total as {original.invoice.id} "
            f"({original.invoice.supplier_invoice_number}), dated {days} days apart"
        )
        return replace(
            original.draft, findings=(_problem(ValidationCode.DUPLICATE_INVOICE, message),)
        )

    def _non_po(self) -> _Draft:
        vendor = self._rng.choices(self._active, cum_weights=self._active_weights)[0]
        facility = self._rng.choice(self._facilities)
        items = self._rng.sample(
            vendor.assortment, min(self._rng.randint(1, 2), len(vendor.assortment))
        )
        lines = []
        for line_no, item in enumerate(items, start=1):
            low, _ = item.quantities
            quantity = item.step * self._rng.randint(1, max(1, int(low / item.step)) * 2)
            lines.append(
                InvoiceLine(
                    line_no=line_no,
                    po_line_no=None,
                    item_id=None,
                    description=item.description,
                    quantity=quantity,
                    unit_of_measure=item.unit,
                    unit_price=item.list_price,
                    amount=round_half_up(quantity * item.list_price, 2),
                )
            )
        return _Draft(
            vendor=vendor,
            facility_id=facility.id,
            cost_center=self._chart.for_spend[(facility.id, vendor.category)],
            order=None,
            billed=(),
            lines=tuple(lines),
            findings=(),
        )

    def _po_draft(
        self,
        order: _Order,
        billed: Sequence[_Billed],
        findings: Sequence[InvoiceException] = (),
        *,
        cost_center: CostCenter | None = None,
    ) -> _Draft:
        lines = []
        for line_no, entry in enumerate(billed, start=1):
            ordered = order.lines[entry.line_index]
            lines.append(
                InvoiceLine(
                    line_no=line_no,
                    po_line_no=ordered.line_no,
                    item_id=ordered.item_id,
                    description=ordered.description,
                    quantity=entry.quantity,
                    unit_of_measure=ordered.unit_of_measure,
                    unit_price=entry.unit_price,
                    amount=round_half_up(entry.quantity * entry.unit_price, 2),
                )
            )
        return _Draft(
            vendor=order.vendor,
            facility_id=order.order.facility_id,
            cost_center=cost_center or self._chart.by_id[order.order.cost_center_id],
            order=order,
            billed=tuple(billed),
            lines=tuple(lines),
            findings=tuple(findings),
        )

    # orders and lines

    def _find(self, limit: int, accept: Callable[[_Order], bool]) -> _Order | None:
        """A random order among the first `limit` that `accept`s, or None if none does."""
        for _ in range(_RANDOM_TRIES):
            order = self._orders[self._rng.randrange(limit)]
            if accept(order):
                return order
        fitting = [order for order in self._orders[:limit] if accept(order)]
        return self._rng.choice(fitting) if fitting else None

    def _find_line(
        self, limit: int, status: InvoiceStatus, mismatch: MatchCode, day: date
    ) -> tuple[_Order, int] | None:
        def fits(order: _Order) -> bool:
            return self._may_bill(order, status) and any(
                self._fits(mismatch, order, index, day) for index in range(len(order.lines))
            )

        order = self._find(limit, fits)
        if order is None:
            return None
        fitting = [i for i in range(len(order.lines)) if self._fits(mismatch, order, i, day)]
        return order, self._rng.choice(fitting)

    def _may_bill(self, order: _Order, status: InvoiceStatus) -> bool:
        """Blocked suppliers billed before they were blocked (their invoices were long paid, or
        their payments are held now); ON_HOLD ones bill as usual, their hold stops payments."""
        if order.cancelled:
            return False
        if order.vendor.supplier.status is SupplierStatus.BLOCKED:
            return status is InvoiceStatus.REMITTED
        return True

    def _fits(self, mismatch: MatchCode, order: _Order, index: int, day: date) -> bool:
        """Whether billing this line can produce `mismatch` without another one on the way."""
        line = order.lines[index]
        received, billed = order.received[index], order.billed[index]
        if mismatch is MatchCode.PRICE_VARIANCE:
            return received > billed
        if mismatch is MatchCode.CONTRACT_PRICE_VARIANCE:
            contract = self._contract(order, line, day)
            return (
                received > billed and contract is not None and contract.unit_price < line.unit_price
            )
        if mismatch is MatchCode.QTY_VARIANCE:
            return 0 < received < line.quantity and billed < line.quantity
        if mismatch is MatchCode.MISSING_RECEIPT:
            return received == 0 and billed < line.quantity
        return received == line.quantity and billed <= line.quantity  # OVER_BILLED

    def _odd_line(self, mismatch: MatchCode, order: _Order, index: int, day: date) -> _Billed:
        line = order.lines[index]
        still_ordered = line.quantity - order.billed[index]
        if mismatch is MatchCode.PRICE_VARIANCE:
            places = self._items[line.item_id].price_places
            higher = _percent_off(line.unit_price, self._rng.randint(3, 12), places)
            return _Billed(index, order.open_quantity(index), higher)
        if mismatch is MatchCode.CONTRACT_PRICE_VARIANCE:
            return _Billed(index, order.open_quantity(index), line.unit_price)
        price = self._fair_price(order, index, day)
        if mismatch is MatchCode.OVER_BILLED:
            step = _step(line)
            extra = max(step, (line.quantity / 10 / step).to_integral_value(ROUND_FLOOR) * step)
            return _Billed(index, still_ordered + extra, price)
        return _Billed(index, still_ordered, price)  # QTY_VARIANCE, MISSING_RECEIPT

    def _fair_bill(self, order: _Order, day: date, *, exclude: int | None = None) -> list[_Billed]:
        """Lines billed as received, at the lower of the PO and the contract price."""
        open_lines = [
            (index, order.open_quantity(index))
            for index in range(len(order.lines))
            if index != exclude and order.open_quantity(index) > 0
        ]
        if open_lines and self._rng.random() < _PARTIAL_BILLING_SHARE:
            chosen = self._rng.sample(open_lines, self._rng.randint(1, len(open_lines)))
            open_lines = [
                (index, _part(self._rng, quantity, _step(order.lines[index])) or quantity)
                for index, quantity in sorted(chosen)
            ]
        return [
            _Billed(index, quantity, self._fair_price(order, index, day))
            for index, quantity in open_lines
        ]

    def _fair_price(self, order: _Order, index: int, day: date) -> Decimal:
        line = order.lines[index]
        contract = self._contract(order, line, day)
        return line.unit_price if contract is None else min(line.unit_price, contract.unit_price)

    def _contract(self, order: _Order, line: PurchaseOrderLine, day: date) -> ContractPrice | None:
        """The contract of DESIGN §4: (invoice supplier, PO line item), valid on the day."""
        agreed = self._contracts.get((order.order.supplier_id, line.item_id), ())
        return next((contract for contract in agreed if contract.valid_on(day)), None)

    def _findings(
        self, order: _Order, billed: _Billed, line_no: int, day: date
    ) -> list[InvoiceException]:
        """The match codes of one line at zero tolerance: what the strictest policy would flag."""
        line = order.lines[billed.line_index]
        unit = line.unit_of_measure
        received = order.received[billed.line_index]
        in_total = order.billed[billed.line_index] + billed.quantity
        found = []
        if received == 0:
            message = f"no goods receipt for PO line {line.line_no}"
            found.append((MatchCode.MISSING_RECEIPT, message))
        elif in_total > received:
            message = f"billed {in_total} {unit} in all, received {received} {unit}"
            found.append((MatchCode.QTY_VARIANCE, message))
        if in_total > line.quantity:
            message = f"billed {in_total} {unit} in all, ordered {line.quantity} {unit}"
            found.append((MatchCode.OVER_BILLED, message))
        if billed.unit_price > line.unit_price:
            message = f"unit price {billed.unit_price}, PO price {line.unit_price}"
            found.append((MatchCode.PRICE_VARIANCE, message))
        contract = self._contract(order, line, day)
        if contract is not None and billed.unit_price > contract.unit_price:
            message = f"unit price {billed.unit_price}, {contract.id} price {contract.unit_price}"
            found.append((MatchCode.CONTRACT_PRICE_VARIANCE, message))
        return [InvoiceException(code.value, line_no, message) for code, message in found]

    # the invoice and its history

    def _invoice(self, invoice_id: InvoiceId, plan: _Plan, draft: _Draft) -> Invoice:
        supplier = draft.vendor.supplier
        subtotal = sum((line.amount for line in draft.lines), _ZERO_AMOUNT)
        tax = _ZERO_AMOUNT
        if supplier.tax_treatment is TaxTreatment.STANDARD:
            tax = round_half_up(subtotal * supplier.tax_rate, 2)
        number = self._next_number[supplier.id]
        self._next_number[supplier.id] = number + self._rng.randint(1, 9)  # they bill others too
        document = None
        if plan.status in _POSTED_OR_LATER:
            document = self._erp_document(draft.facility_id)
        return Invoice(
            id=invoice_id,
            supplier_id=supplier.id,
            supplier_invoice_number=draft.vendor.number_format.format(
                n=number, year=plan.invoice_date.year
            ),
            facility_id=draft.facility_id,
            cost_center_id=draft.cost_center.id,
            purchase_order_id=None if draft.order is None else draft.order.order.id,
            invoice_date=plan.invoice_date,
            due_date=supplier.payment_terms.due_date(plan.invoice_date),
            currency=CURRENCY,
            subtotal=subtotal,
            tax=tax,
            total=subtotal + tax,
            status=plan.path[-1],  # POSTED for the payment steps: settlement takes them on
            submitted_by=f"portal.{supplier.id.lower()}",
            received_at=plan.received_at,
            erp_document_ref=document,
        )

    def _erp_document(self, facility_id: FacilityId) -> str:
        system = (
            _CLOUD_ERP if demo_route(facility_id)[0] is ExternalSystem.CLOUD_ERP else _LEGACY_ERP
        )
        self._documents[system] += 1
        prefix, first = system
        return f"{prefix}-{first + self._documents[system]}"

    def _timeline(self, plan: _Plan) -> list[datetime]:
        """When each step of the path happened, early enough for where the plan ends."""
        margin = _POSTED_BEFORE_CUTOFF.get(plan.status, timedelta(minutes=1))
        return _spaced(self._rng, plan.path, plan.received_at, _CUTOFF - margin)

    def _history(
        self,
        invoice: Invoice,
        path: Sequence[InvoiceStatus],
        times: Sequence[datetime],
        draft: _Draft,
        out: _Invoiced,
    ) -> None:
        approver = draft.cost_center.approvers[0]
        befores = (None, *path[:-1])
        for sequence, (before, after, at) in enumerate(zip(befores, path, times, strict=True), 1):
            decision = None if before is None else _DECISIONS.get((before, after))
            if decision is None:
                actor, note = self._step_record(before, after, invoice, draft)
            else:
                actor, note = approver, self._rng.choice(_DECISION_NOTES[decision])
                out.approvals.append(Approval(invoice.id, approver, decision, at, note))
            out.changes.append(StatusChange(invoice.id, sequence, at, before, after, actor, note))

    def _step_record(
        self, before: InvoiceStatus | None, after: InvoiceStatus, invoice: Invoice, draft: _Draft
    ) -> tuple[str, str | None]:
        """Who moved the invoice, and why, for every step an approver did not take."""
        codes = ", ".join(dict.fromkeys(finding.code for finding in draft.findings))
        if before is None:
            return invoice.submitted_by, "Submitted through the supplier portal"
        if before is InvoiceStatus.RECEIVED and after is InvoiceStatus.REJECTED:
            return "apgraph.validation", f"Failed validation: {codes}"
        if before is InvoiceStatus.MATCHED and after is InvoiceStatus.EXCEPTION:
            return "apgraph.matching", f"{len(draft.findings)} finding(s): {codes}"
        return _SYSTEM_STEPS[(before, after)]


def _in_full(order: _Order) -> list[_Billed]:
    """Every line as ordered, at the PO price: what an invoice that fails validation bills."""
    return [_Billed(i, line.quantity, line.unit_price) for i, line in enumerate(order.lines)]


def _blocked(order: _Order) -> bool:
    return not order.cancelled and order.vendor.supplier.status is SupplierStatus.BLOCKED


def _problem(code: ValidationCode, message: str) -> InvoiceException:
    return InvoiceException(code=code.value, line_no=None, message=message)


def _spaced(
    rng: random.Random, path: Sequence[InvoiceStatus], start: datetime, deadline: datetime
) -> list[datetime]:
    """Times for `path` from `start`, squeezed to end before `deadline` when time was short."""
    gaps = [
        timedelta(minutes=rng.randint(*_GAP_MINUTES[step]), seconds=rng.randint(0, 59))
        for step in pairwise(path)
    ]
    room, needed = deadline - start, sum(gaps, timedelta())
    if needed > room:
        ratio = room / needed
        gaps = [timedelta(seconds=max(1, int(gap.total_seconds() * ratio))) for gap in gaps]
    times = [start]
    for gap in gaps:
        times.append(times[-1] + gap)
    return times


# --- attachments ----------------------------------------------------------------------------

_ATTACHED_SHARE = 0.5


def _attachments(
    rng: random.Random, invoices: Sequence[Invoice], vendors: Sequence[_Vendor]
) -> list[tuple[Attachment, bytes]]:
    """The supplier's PDF, uploaded with the invoice, for about half of the invoices."""
    names = {vendor.supplier.id: vendor.supplier.legal_name for vendor in vendors}
    documents: list[tuple[Attachment, bytes]] = []
    for invoice in invoices:
        if rng.random() >= _ATTACHED_SHARE:
            continue
        content = _pdf(
            f"{names[invoice.supplier_id]}: invoice {invoice.supplier_invoice_number} of "
            f"{invoice.invoice_date.isoformat()}, total {invoice.currency} {invoice.total}"
        )
        attachment = Attachment(
            id=AttachmentId(numbered(EntityKind.ATTACHMENT, len(documents) + 1)),
            invoice_id=invoice.id,
            filename=f"invoice-{invoice.supplier_invoice_number}.pdf",
            media_type="application/pdf",
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_at=invoice.received_at,
        )
        documents.append((attachment, content))
    return documents


def _pdf(text: str) -> bytes:
    """A one-page PDF showing `text`: small, but a real document a viewer can open."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 11 Tf 72 720 Td ({escaped}) Tj ET"
    return "\n".join(
        (
            "%PDF-1.4",
            "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
            "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj",
            "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            "/Resources << /Font << /F1 5 0 R >> >> >> endobj",
            f"4 0 obj << /Length {len(stream)} >> stream",
            stream,
            "endstream endobj",
            "5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj",
            "trailer << /Root 1 0 R >>",
            "%%EOF",
            "",
        )
    ).encode("ascii")


# --- small shared pieces --------------------------------------------------------------------


def _allotment(rng: random.Random, count: int, shares: Mapping[_T, float]) -> list[_T]:
    """`count` keys in random order, each about its share of them and every one at least once."""
    largest = max(shares, key=lambda key: shares[key])
    counts = {key: max(1, round(share * count)) for key, share in shares.items()}
    counts[largest] = count - sum(n for key, n in counts.items() if key != largest)
    if counts[largest] < 1:
        raise ValueError(f"{count} is too few to give each of {len(shares)} kinds one")
    keys = [key for key, n in counts.items() for _ in range(n)]
    rng.shuffle(keys)
    return keys


def _weighted(rng: random.Random, shares: Mapping[_T, float]) -> _T:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def _moment(rng: random.Random, day: date) -> datetime:
    """A time during US business hours on `day`, in UTC."""
    return datetime.combine(
        day, time(rng.randint(12, 22), rng.randint(0, 59), rng.randint(0, 59)), tzinfo=UTC
    )


def _step(line: PurchaseOrderLine) -> Decimal:
    return _HALF if line.unit_of_measure == "HR" else _ONE


def _part(rng: random.Random, quantity: Decimal, step: Decimal) -> Decimal | None:
    """Some but not all of `quantity`, in whole steps; None when it cannot be split."""
    steps = int(quantity / step)
    return step * rng.randint(1, steps - 1) if steps >= 2 else None


def _percent_off(price: Decimal, percent: int, places: int) -> Decimal:
    """`price` moved by `percent` (negative is cheaper), at the price's precision."""
    return round_half_up(price * (100 + percent) / 100, places)
