"""References may be satisfied by the bundle or by what is stored (`KnownIds`)."""

from apgraph.domain.bundle import BundleCode
from apgraph.services.bundles import KnownIds, check_references, read_csv_files
from tests.services.bundles.examples import CSV_TEXT, csv_files

C = BundleCode

# an incremental bundle: a PO for a stored supplier, facility and cost center, and a
# receipt on a stored PO's line
INCREMENT = {
    "purchase_orders.csv": (
        CSV_TEXT["purchase_orders.csv"].splitlines()[0]
        + "\nPO-2026-000010,SUP-000777,FAC-0007,CC-0007-4410,OPEN,USD,2026-03-01\n"
    ).encode(),
    "purchase_order_lines.csv": (
        CSV_TEXT["purchase_order_lines.csv"].splitlines()[0]
        + "\nPO-2026-000010,1,ITM-MS-1,Gauze,MEDICAL_SUPPLIES,5,BX,1.25,USD\n"
    ).encode(),
    "goods_receipts.csv": (
        CSV_TEXT["goods_receipts.csv"].splitlines()[0]
        + "\nGR-00000100,PO-2025-000500,2,5,2026-03-02T08:00:00Z\n"
    ).encode(),
    "contract_prices.csv": (
        CSV_TEXT["contract_prices.csv"].splitlines()[0]
        + "\nCT-000100,SUP-000777,ITM-MS-1,1.25,USD,2026-01-01,2026-12-31\n"
    ).encode(),
}
STORED = KnownIds(
    facilities={"FAC-0007"},
    cost_centers={"CC-0007-4410"},
    suppliers={"SUP-000777"},
    purchase_order_lines={"PO-2025-000500": {1, 2}},
)


def test_references_to_stored_entities_are_satisfied():
    # when
    bundle, problems = read_csv_files(INCREMENT, known=STORED)

    # then
    assert problems == []
    assert bundle is not None


def test_references_to_nothing_are_reported_by_file_and_row():
    # when nothing is stored
    _, problems = read_csv_files(INCREMENT, known=KnownIds())

    # then
    assert [(p.file, p.location, p.field, p.code) for p in problems] == [
        ("purchase_orders.csv", "row 2", "supplier_id", C.UNKNOWN_REFERENCE),
        ("purchase_orders.csv", "row 2", "facility_id", C.UNKNOWN_REFERENCE),
        ("purchase_orders.csv", "row 2", "cost_center_id", C.UNKNOWN_REFERENCE),
        ("goods_receipts.csv", "row 2", "purchase_order_id", C.UNKNOWN_REFERENCE),
        ("contract_prices.csv", "row 2", "supplier_id", C.UNKNOWN_REFERENCE),
    ]


def test_a_reader_without_known_ids_leaves_outside_references_to_check_references():
    # given a bundle read without knowing what is stored
    bundle, problems = read_csv_files(INCREMENT)
    assert problems == []
    assert bundle is not None

    # when its references are checked against a store that lacks one line
    stored = KnownIds(
        facilities=STORED.facilities,
        cost_centers=STORED.cost_centers,
        suppliers=STORED.suppliers,
        purchase_order_lines={"PO-2025-000500": {1}},
    )
    problems = check_references(bundle, stored)

    # then the problem names the entity and its ID
    assert [p.line() for p in problems] == [
        "goods_receipts GR-00000100: line_no: UNKNOWN_REFERENCE: PO-2025-000500 has no line 2"
    ]


def test_a_po_in_the_bundle_brings_its_lines_even_when_it_is_also_stored():
    # given a receipt on line 2 of a bundle PO that has only line 1 here but 2 lines stored
    files = csv_files(
        goods_receipts=CSV_TEXT["goods_receipts.csv"]
        + "GR-00000003,PO-2026-000002,2,1,2026-01-12T10:00:00Z\n"
    )
    stored = KnownIds(purchase_order_lines={"PO-2026-000002": {1, 2}})

    # when
    _, problems = read_csv_files(files, known=stored)

    # then
    assert [(p.location, p.field, p.code) for p in problems] == [
        ("row 4", "line_no", C.UNKNOWN_REFERENCE)
    ]


def test_a_po_line_always_comes_with_its_order():
    # given a line for a stored PO, without the PO
    files = {
        "purchase_order_lines.csv": (
            CSV_TEXT["purchase_order_lines.csv"].splitlines()[0]
            + "\nPO-2025-000500,3,ITM-MS-1,Gauze,MEDICAL_SUPPLIES,5,BX,1.25,USD\n"
        ).encode()
    }

    # when
    _, problems = read_csv_files(files, known=STORED)

    # then
    assert [(p.location, p.field, p.code) for p in problems] == [
        ("row 2", "purchase_order_id", C.UNKNOWN_REFERENCE)
    ]


def test_the_example_bundle_refers_only_to_itself():
    bundle, _ = read_csv_files(csv_files())
    assert bundle is not None
    assert check_references(bundle, KnownIds()) == []


def test_a_receipt_on_a_line_whose_number_is_bad_is_not_reported_again():
    # given line 1 of PO-2026-000001, which a receipt names, with an unreadable line number
    lines = CSV_TEXT["purchase_order_lines.csv"].replace("PO-2026-000001,1,", "PO-2026-000001,x,")

    # when
    _, problems = read_csv_files(csv_files(purchase_order_lines=lines), known=KnownIds())

    # then only the bad line is reported, not the receipt that names it
    assert [(p.file, p.location, p.field) for p in problems] == [
        ("purchase_order_lines.csv", "row 2", "line_no")
    ]


def test_a_receipt_on_a_po_whose_id_is_bad_is_not_reported_again():
    # given the PO a receipt names, with a malformed ID
    orders = CSV_TEXT["purchase_orders.csv"].replace("PO-2026-000001,SUP", "PO-26-1,SUP")

    # when
    _, problems = read_csv_files(csv_files(purchase_orders=orders), known=KnownIds())

    # then the PO is reported, and its lines (which must come with it), but not the receipt
    assert [(p.file, p.location, p.field, p.code) for p in problems] == [
        ("purchase_orders.csv", "row 2", "id", C.INVALID_ID),
        ("purchase_order_lines.csv", "row 2", "purchase_order_id", C.UNKNOWN_REFERENCE),
        ("purchase_order_lines.csv", "row 3", "purchase_order_id", C.UNKNOWN_REFERENCE),
    ]
