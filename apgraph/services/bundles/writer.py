"""MasterDataBundle → the JSON form or the CSV form, byte for byte the same for equal bundles.

Rows go in canonical-ID order (PO lines by number, vendor links by system; contacts keep
their order), keys in the schema's order, and a decimal in one canonical spelling that
depends on its value only (10.5 and 10.5000 both write "10.50" as a price), so exporting,
importing and exporting again gives identical bytes.
"""

import csv
import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from apgraph.domain.bundle import FacilityEntry, MasterDataBundle, PurchaseOrderEntry, SupplierEntry
from apgraph.domain.facilities import CostCenter
from apgraph.domain.purchasing import ContractPrice, GoodsReceipt, PurchaseOrderLine
from apgraph.services.bundles import layout

Row = dict[str, object]
MONEY_PLACES = 2  # a price keeps at least its cents: "12.50", "2.8074"


def decimal_text(value: Decimal, *, min_places: int = 0) -> str:
    """Plain notation, trailing zeros dropped down to `min_places`; never an exponent."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    places = len(text.partition(".")[2])
    if places < min_places:
        text += ("." if places == 0 else "") + "0" * (min_places - places)
    return text


def _price(value: Decimal) -> str:
    return decimal_text(value, min_places=MONEY_PLACES)


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _facility(entry: FacilityEntry) -> Row:
    facility = entry.facility
    return {
        "id": facility.id,
        "name": facility.name,
        "region": facility.region,
        "timezone": facility.timezone,
        "erp": entry.erp.erp_name,
        "migration": entry.migration.value,
    }


def _cost_center(center: CostCenter) -> Row:
    return {
        "id": center.id,
        "facility_id": center.facility_id,
        "code": center.code,
        "name": center.name,
        "active": center.active,
        "approvers": list(center.approvers),
    }


def _supplier(entry: SupplierEntry) -> Row:
    """Without the nested parts, which the two forms place differently."""
    supplier = entry.supplier
    return {
        "id": supplier.id,
        "legal_name": supplier.legal_name,
        "tax_id": supplier.tax_id,
        "status": supplier.status.value,
        "payment_terms": supplier.payment_terms.value,
        "tax_treatment": supplier.tax_treatment.value,
        "tax_rate": decimal_text(supplier.tax_rate),
    }


def _remit_to(entry: SupplierEntry) -> Row | None:
    remit = entry.supplier.remit_to
    if remit is None:
        return None
    return {
        "bank_name": remit.bank_name,
        "routing_number": remit.routing_number,
        "account_number": remit.account_number,
    }


def _contacts(entry: SupplierEntry) -> list[Row]:
    return [
        {"name": c.name, "email": c.email, "phone": c.phone, "role": c.role}
        for c in entry.supplier.contacts
    ]


def _vendor_links(entry: SupplierEntry) -> list[Row]:
    return [
        {"system": link.system.erp_name, "vendor_key": link.vendor_key}
        for link in sorted(entry.vendor_links, key=lambda link: link.system.erp_name)
    ]


def _line(line: PurchaseOrderLine) -> Row:
    return {
        "line_no": line.line_no,
        "item_id": line.item_id,
        "description": line.description,
        "category": line.category.value,
        "quantity": decimal_text(line.quantity),
        "unit_of_measure": line.unit_of_measure,
        "unit_price": _price(line.unit_price),
    }


def _purchase_order(entry: PurchaseOrderEntry) -> Row:
    """Without its lines."""
    order = entry.order
    return {
        "id": order.id,
        "supplier_id": order.supplier_id,
        "facility_id": order.facility_id,
        "cost_center_id": order.cost_center_id,
        "status": order.status.value,
        "currency": order.currency,
        "ordered_on": order.ordered_on.isoformat(),
    }


def _lines(entry: PurchaseOrderEntry) -> list[Row]:
    return [_line(line) for line in sorted(entry.lines, key=lambda line: line.line_no)]


def _goods_receipt(receipt: GoodsReceipt) -> Row:
    return {
        "id": receipt.id,
        "purchase_order_id": receipt.purchase_order_id,
        "line_no": receipt.line_no,
        "quantity": decimal_text(receipt.quantity),
        "received_at": _timestamp(receipt.received_at),
    }


def _contract_price(contract: ContractPrice) -> Row:
    return {
        "id": contract.id,
        "supplier_id": contract.supplier_id,
        "item_id": contract.item_id,
        "unit_price": _price(contract.unit_price),
        "currency": contract.currency,
        "valid_from": contract.valid_from.isoformat(),
        "valid_to": contract.valid_to.isoformat(),
    }


def _sorted_keys(value: object) -> object:
    """The policy is free-form data: its keys are sorted so equal policies write alike."""
    if isinstance(value, Mapping):
        return {str(key): _sorted_keys(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_sorted_keys(item) for item in value]
    if isinstance(value, Decimal):
        return decimal_text(value)
    return value


def _suppliers(bundle: MasterDataBundle) -> list[SupplierEntry]:
    return sorted(bundle.suppliers, key=lambda entry: entry.supplier.id)


def _orders(bundle: MasterDataBundle) -> list[PurchaseOrderEntry]:
    return sorted(bundle.purchase_orders, key=lambda entry: entry.order.id)


def _document(bundle: MasterDataBundle) -> Row:
    document: Row = {
        "format": layout.FORMAT,
        "version": layout.VERSION,
        "facilities": [
            _facility(e) for e in sorted(bundle.facilities, key=lambda e: e.facility.id)
        ],
        "cost_centers": [_cost_center(c) for c in sorted(bundle.cost_centers, key=lambda c: c.id)],
        "suppliers": [
            {
                **_supplier(entry),
                "remit_to": _remit_to(entry),
                "contacts": _contacts(entry),
                "vendor_links": _vendor_links(entry),
            }
            for entry in _suppliers(bundle)
        ],
        "purchase_orders": [
            {**_purchase_order(entry), "lines": _lines(entry)} for entry in _orders(bundle)
        ],
        "goods_receipts": [
            _goods_receipt(r) for r in sorted(bundle.goods_receipts, key=lambda r: r.id)
        ],
        "contract_prices": [
            _contract_price(c) for c in sorted(bundle.contract_prices, key=lambda c: c.id)
        ],
    }
    if bundle.policy is not None:
        document["policy"] = _sorted_keys(bundle.policy)
    return document


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def write_json(bundle: MasterDataBundle) -> bytes:
    """UTF-8, 2-space indent, a trailing newline; amounts as decimal strings."""
    return _json_bytes(_document(bundle))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return str(value)


def _csv_bytes(csv_file: layout.CsvFile, rows: list[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_file.columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in csv_file.columns])
    return out.getvalue().encode("utf-8")


def write_csv(bundle: MasterDataBundle) -> dict[str, bytes]:
    """Every entity file, with its header even when empty; `policy.json` only with a policy.

    A PO line repeats its order's currency, so the file reads on its own in a spreadsheet.
    """
    suppliers = _suppliers(bundle)
    orders = _orders(bundle)
    tables: list[tuple[layout.CsvFile, list[Row]]] = [
        (
            layout.FACILITIES,
            [_facility(e) for e in sorted(bundle.facilities, key=lambda e: e.facility.id)],
        ),
        (
            layout.COST_CENTERS,
            [_cost_center(c) for c in sorted(bundle.cost_centers, key=lambda c: c.id)],
        ),
        (
            layout.SUPPLIERS,
            [
                {
                    **_supplier(entry),
                    **{f"remit_to_{key}": value for key, value in (_remit_to(entry) or {}).items()},
                }
                for entry in suppliers
            ],
        ),
        (
            layout.SUPPLIER_CONTACTS,
            [
                {**contact, "supplier_id": entry.supplier.id}
                for entry in suppliers
                for contact in _contacts(entry)
            ],
        ),
        (
            layout.SUPPLIER_VENDOR_LINKS,
            [
                {**link, "supplier_id": entry.supplier.id}
                for entry in suppliers
                for link in _vendor_links(entry)
            ],
        ),
        (layout.PURCHASE_ORDERS, [_purchase_order(entry) for entry in orders]),
        (
            layout.PURCHASE_ORDER_LINES,
            [
                {**line, "purchase_order_id": entry.order.id, "currency": entry.order.currency}
                for entry in orders
                for line in _lines(entry)
            ],
        ),
        (
            layout.GOODS_RECEIPTS,
            [_goods_receipt(r) for r in sorted(bundle.goods_receipts, key=lambda r: r.id)],
        ),
        (
            layout.CONTRACT_PRICES,
            [_contract_price(c) for c in sorted(bundle.contract_prices, key=lambda c: c.id)],
        ),
    ]
    files = {csv_file.name: _csv_bytes(csv_file, rows) for csv_file, rows in tables}
    if bundle.policy is not None:
        files[layout.POLICY_FILE] = _json_bytes(_sorted_keys(bundle.policy))
    return files
