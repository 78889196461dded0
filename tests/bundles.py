"""Master-data bundles for tests: the demo network's master data as a bundle, and a
hypothesis strategy for small, valid, self-contained bundles."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from apgraph.demo import generator
from apgraph.domain.bundle import (
    FacilityEntry,
    MasterDataBundle,
    PurchaseOrderEntry,
    SupplierEntry,
    VendorLink,
)
from apgraph.domain.erp import ErpRoute, MigrationMode
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.ids import (
    ContractPriceId,
    EntityKind,
    FacilityId,
    GoodsReceiptId,
    PurchaseOrderId,
    SupplierId,
    cost_center_for,
    numbered,
)
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
from apgraph.domain.systems import ERPS


def bundle_of(network: generator.DemoNetwork) -> MasterDataBundle:
    """The network's master data as an import would bring it (no vendor links: the demo's
    suppliers are linked by the supplier sync)."""
    lines: dict[str, list[PurchaseOrderLine]] = {}
    for order_id, line in network.purchase_order_lines:
        lines.setdefault(order_id, []).append(line)
    return MasterDataBundle(
        facilities=tuple(FacilityEntry(f, *generator.demo_route(f.id)) for f in network.facilities),
        cost_centers=network.cost_centers,
        suppliers=tuple(SupplierEntry(s, ()) for s in network.suppliers),
        purchase_orders=tuple(
            PurchaseOrderEntry(o, tuple(lines.get(o.id, ()))) for o in network.purchase_orders
        ),
        goods_receipts=network.goods_receipts,
        contract_prices=network.contract_prices,
    )


def with_supplier(bundle: MasterDataBundle, supplier: Supplier) -> MasterDataBundle:
    """`bundle` with the entry of `supplier.id` carrying `supplier` instead."""
    return replace(
        bundle,
        suppliers=tuple(
            replace(entry, supplier=supplier) if entry.supplier.id == supplier.id else entry
            for entry in bundle.suppliers
        ),
    )


# --- a strategy for generated bundles ------------------------------------------------------

_WORD = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789&.'-é",
    min_size=1,
    max_size=8,
)
_NAME = st.lists(_WORD, min_size=1, max_size=3).map(" ".join)
_USER = st.sampled_from(["dana", "lee", "sam.ortiz", "approver.fac-9001"])
_DAY = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31))


def _decimal(places: int, *, low: int, high: int) -> st.SearchStrategy[Decimal]:
    scale = 10**places
    return st.integers(low * scale, high * scale).map(lambda n: Decimal(n).scaleb(-places))


@st.composite
def _supplier(draw: st.DrawFn, number: int) -> SupplierEntry:
    supplier_id = SupplierId(numbered(EntityKind.SUPPLIER, number))
    treatment = draw(st.sampled_from(TaxTreatment))
    bank = draw(
        st.none()
        | st.builds(
            BankAccount,
            bank_name=_NAME,
            routing_number=st.from_regex(r"[0-9]{9}", fullmatch=True),
            account_number=st.from_regex(r"[0-9]{6,12}", fullmatch=True),
        )
    )
    contacts = draw(
        st.lists(
            st.builds(
                Contact,
                name=_NAME,
                email=_WORD.filter(str.isalnum).map(lambda w: f"{w}@example.com"),
                phone=st.none() | st.from_regex(r"\+1 [0-9]{3}-555-[0-9]{4}", fullmatch=True),
                role=st.sampled_from(["accounts receivable", "sales"]),
            ),
            max_size=2,
        )
    )
    supplier = Supplier(
        id=supplier_id,
        legal_name=draw(_NAME),
        tax_id=draw(st.from_regex(r"[0-9]{2}-[0-9]{7}", fullmatch=True)),
        status=draw(st.sampled_from(SupplierStatus)),
        payment_terms=draw(st.sampled_from(PaymentTerms)),
        tax_treatment=treatment,
        tax_rate=(
            Decimal("0") if treatment is TaxTreatment.EXEMPT else draw(_decimal(4, low=0, high=1))
        ),
        remit_to=bank,
        contacts=tuple(contacts),
    )
    systems = draw(st.lists(st.sampled_from(ERPS), unique=True, max_size=2))
    links = tuple(
        VendorLink(system, f"{system.value[0].upper()}{70_000 + number}")
        for system in sorted(systems, key=lambda s: s.value)
    )
    return SupplierEntry(supplier, links)


@st.composite
def bundles(draw: st.DrawFn) -> MasterDataBundle:
    """1–2 facilities with their cost centers, 1–3 suppliers, 0–4 POs of 1–3 lines, some
    receipts and contract prices: valid, and referring to nothing outside itself."""
    facilities = []
    cost_centers = []
    for index in range(draw(st.integers(1, 2))):
        facility_id = FacilityId(numbered(EntityKind.FACILITY, 9001 + index))
        migration = draw(st.sampled_from(MigrationMode))
        facilities.append(
            FacilityEntry(
                Facility(
                    facility_id,
                    draw(_NAME),
                    draw(_NAME),
                    draw(st.sampled_from(["America/Chicago", "Pacific/Honolulu"])),
                ),
                ErpRoute(migration).system_of_record,
                migration,
            )
        )
        codes = draw(st.lists(st.sampled_from(["4410", "4420", "7400"]), min_size=1, unique=True))
        cost_centers += [
            CostCenter(
                cost_center_for(facility_id, code),
                facility_id,
                code,
                draw(_NAME),
                draw(st.booleans()),
                tuple(draw(st.lists(_USER, unique=True, max_size=2))),
            )
            for code in sorted(codes)
        ]
    suppliers = [draw(_supplier(n)) for n in range(1, draw(st.integers(1, 3)) + 1)]
    orders = []
    receipts = []
    for number in range(1, draw(st.integers(0, 4)) + 1):
        center = draw(st.sampled_from(cost_centers))
        order = PurchaseOrder(
            id=PurchaseOrderId(numbered(EntityKind.PURCHASE_ORDER, number, year=2026)),
            supplier_id=draw(st.sampled_from(suppliers)).supplier.id,
            facility_id=center.facility_id,
            cost_center_id=center.id,
            status=draw(st.sampled_from(PurchaseOrderStatus)),
            currency="USD",
            ordered_on=draw(_DAY),
        )
        lines = tuple(
            PurchaseOrderLine(
                line_no=line_no,
                item_id=f"ITM-{draw(st.integers(1, 5)):05d}",
                description=draw(_NAME),
                category=draw(st.sampled_from(Category)),
                quantity=draw(_decimal(2, low=1, high=500)),
                unit_of_measure=draw(st.sampled_from(["EA", "BX", "HR"])),
                unit_price=draw(_decimal(4, low=0, high=20_000)),
            )
            for line_no in range(1, draw(st.integers(1, 3)) + 1)
        )
        orders.append(PurchaseOrderEntry(order, lines))
        for line in lines:
            if draw(st.booleans()):
                at = datetime.combine(order.ordered_on, datetime.min.time(), tzinfo=UTC)
                receipts.append(
                    GoodsReceipt(
                        id=GoodsReceiptId(numbered(EntityKind.GOODS_RECEIPT, len(receipts) + 1)),
                        purchase_order_id=order.id,
                        line_no=line.line_no,
                        quantity=draw(_decimal(2, low=1, high=500)),
                        received_at=at + timedelta(seconds=draw(st.integers(0, 10**7))),
                    )
                )
    contracts = []
    for entry in suppliers:
        for _ in range(draw(st.integers(0, 2))):
            start = draw(_DAY)
            contracts.append(
                ContractPrice(
                    id=ContractPriceId(numbered(EntityKind.CONTRACT_PRICE, len(contracts) + 1)),
                    supplier_id=entry.supplier.id,
                    item_id=f"ITM-{draw(st.integers(1, 5)):05d}",
                    unit_price=draw(_decimal(4, low=0, high=20_000)),
                    currency="USD",
                    valid_from=start,
                    valid_to=start + timedelta(days=draw(st.integers(0, 730))),
                )
            )
    return MasterDataBundle(
        facilities=tuple(facilities),
        cost_centers=tuple(cost_centers),
        suppliers=tuple(suppliers),
        purchase_orders=tuple(orders),
        goods_receipts=tuple(receipts),
        contract_prices=tuple(contracts),
    )
