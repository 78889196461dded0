"""The bundle's files and columns: what the CSV reader expects and the writers produce.

JSON property names are the CSV column names; where the JSON form nests (a supplier's
`remit_to`, contacts and vendor links; a PO's lines) the CSV form flattens or splits.
"""

from dataclasses import dataclass

FORMAT = "apgraph.master-data"
VERSION = 1
JSON_FILE = "bundle.json"
POLICY_FILE = "policy.json"


@dataclass(frozen=True, slots=True)
class CsvFile:
    """One entity's file; an `optional` column may be left out of the header."""

    name: str
    columns: tuple[str, ...]
    optional: frozenset[str] = frozenset()

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(column for column in self.columns if column not in self.optional)


REMIT_TO = ("remit_to_bank_name", "remit_to_routing_number", "remit_to_account_number")

FACILITIES = CsvFile("facilities.csv", ("id", "name", "region", "timezone", "erp", "migration"))
COST_CENTERS = CsvFile(
    "cost_centers.csv", ("id", "facility_id", "code", "name", "active", "approvers")
)
SUPPLIERS = CsvFile(
    "suppliers.csv",
    (
        "id",
        "legal_name",
        "tax_id",
        "status",
        "payment_terms",
        "tax_treatment",
        "tax_rate",
        *REMIT_TO,
    ),
    optional=frozenset(REMIT_TO),
)
SUPPLIER_CONTACTS = CsvFile(
    "supplier_contacts.csv",
    ("supplier_id", "name", "email", "phone", "role"),
    optional=frozenset({"phone"}),
)
SUPPLIER_VENDOR_LINKS = CsvFile(
    "supplier_vendor_links.csv", ("supplier_id", "system", "vendor_key")
)
PURCHASE_ORDERS = CsvFile(
    "purchase_orders.csv",
    ("id", "supplier_id", "facility_id", "cost_center_id", "status", "currency", "ordered_on"),
)
PURCHASE_ORDER_LINES = CsvFile(
    "purchase_order_lines.csv",
    (
        "purchase_order_id",
        "line_no",
        "item_id",
        "description",
        "category",
        "quantity",
        "unit_of_measure",
        "unit_price",
        "currency",
    ),
    optional=frozenset({"currency"}),
)
GOODS_RECEIPTS = CsvFile(
    "goods_receipts.csv", ("id", "purchase_order_id", "line_no", "quantity", "received_at")
)
CONTRACT_PRICES = CsvFile(
    "contract_prices.csv",
    ("id", "supplier_id", "item_id", "unit_price", "currency", "valid_from", "valid_to"),
)

CSV_FILES = (
    FACILITIES,
    COST_CENTERS,
    SUPPLIERS,
    SUPPLIER_CONTACTS,
    SUPPLIER_VENDOR_LINKS,
    PURCHASE_ORDERS,
    PURCHASE_ORDER_LINES,
    GOODS_RECEIPTS,
    CONTRACT_PRICES,
)
