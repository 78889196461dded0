"""A CSV bundle is judged as a whole: every problem is reported with its file and row."""

import codecs

from apgraph.domain.bundle import BundleCode
from apgraph.services.bundles import KnownIds, read_csv_files
from tests.services.bundles.examples import CSV_TEXT, csv_files

C = BundleCode


def report(files: dict[str, bytes]) -> list[tuple[str, str, str | None, BundleCode]]:
    bundle, problems = read_csv_files(files, known=KnownIds())
    assert bundle is None
    return [(p.file, p.location, p.field, p.code) for p in problems]


def test_the_example_bundle_is_valid():
    # when
    bundle, problems = read_csv_files(csv_files(), known=KnownIds())

    # then
    assert problems == []
    assert bundle is not None
    assert bundle.counts() == {
        "facilities": 2,
        "cost_centers": 2,
        "suppliers": 2,
        "purchase_orders": 2,
        "purchase_order_lines": 3,
        "goods_receipts": 2,
        "contract_prices": 1,
    }
    assert bundle.policy is not None


PLANTED = csv_files(
    facilities="""\
id,name,region,timezone,erp,migration,notes
FAC-0001,St. Mary's Medical Center,Northeast,America/New_York,legacy,legacy,
FAC-0004,Lakeside Clinic,Midwest,America/Chicago,legacy,cloud,moving
""",
    cost_centers=codecs.BOM_UTF8.decode("utf-8")
    + CSV_TEXT["cost_centers.csv"]
    + "CC-0001-4420,FAC-1,4420,Pharmacy,true,\n"
    + "CC-0001-7400,FAC-0001,7400,Plant Operations,yes,\n",
    suppliers=CSV_TEXT["suppliers.csv"]
    + "SUP-000003,Acme Linen,55-1234567,ACTIV,NET30,STANDARD,0.0825,,,\n"
    + "SUP-000004,Bayside Labs,55-7654321,ACTIVE,NET30,STANDARD,0.08255,,,\n"
    + "SUP-000001,Juniper again,99-5194349,ACTIVE,NET45,STANDARD,0.0825,,,\n",
    supplier_contacts=CSV_TEXT["supplier_contacts.csv"]
    + "SUP-000009,Pat Doe,pat@nowhere.example,,sales\n",
    supplier_vendor_links="supplier_id;system;vendor_key\nSUP-000001;legacy;V70001\n",
    purchase_orders=CSV_TEXT["purchase_orders.csv"]
    + "PO-2026-000003,SUP-000001,FAC-0001,CC-0001-4410,OPEN,USD,2026-02-30\n"
    + "PO-2026-000004,SUP-000404,FAC-0001,CC-0001-4410,OPEN,USD,2026-02-03\n",
    purchase_order_lines=CSV_TEXT["purchase_order_lines.csv"]
    + "PO-2026-000099,1,ITM-MS-1,Gauze,MEDICAL_SUPPLIES,1,BX,1.00,USD\n"
    + "PO-2026-000003,1,ITM-MS-2,Gauze,MEDICAL_SUPPLIES,-3,BX,1.00,USD\n"
    + "PO-2026-000003,2,ITM-MS-3,Gauze,MEDICAL_SUPPLIES,3,BX,9.80125,USD\n"
    + "PO-2026-000003,3,ITM-MS-4,Aspirin,DRUGS,3,BX,1.00,USD\n"
    + "PO-2026-000001,1,ITM-MS-5,Gauze,MEDICAL_SUPPLIES,3,BX,1.00,USD\n",
    goods_receipts=CSV_TEXT["goods_receipts.csv"]
    + "GR-00000003,PO-2026-000001,7,1,2026-01-12T10:00:00Z\n"
    + "GR-1,PO-2026-000001,2,1,2026-01-12T10:00:00Z\n"
    + "GR-00000005,PO-2026-000001,2,1,2026-01-12 10:00\n",
    contract_prices=CSV_TEXT["contract_prices.csv"]
    + "CT-000002,SUP-000001,ITM-MS-1,1.10,USD,2026-06-01,2026-05-31\n",
)


def test_twenty_planted_errors_are_all_reported_with_file_and_row():
    # when the bundle with 20 planted errors (and a BOM, which is no error) is read
    found = report(PLANTED)

    # then each error is reported once, in file order, row by row
    assert found == [
        ("facilities.csv", "row 1", "notes", C.UNKNOWN_COLUMN),
        ("facilities.csv", "row 3", "erp", C.INVALID_VALUE),
        ("cost_centers.csv", "row 4", "facility_id", C.INVALID_ID),
        ("cost_centers.csv", "row 5", "active", C.INVALID_VALUE),
        ("suppliers.csv", "row 4", "status", C.INVALID_VALUE),
        ("suppliers.csv", "row 5", "tax_rate", C.INVALID_AMOUNT),
        ("suppliers.csv", "row 6", "id", C.DUPLICATE),
        ("supplier_contacts.csv", "row 4", "supplier_id", C.UNKNOWN_REFERENCE),
        ("supplier_vendor_links.csv", "row 1", "supplier_id;system;vendor_key", C.UNKNOWN_COLUMN),
        ("purchase_orders.csv", "row 4", "ordered_on", C.INVALID_DATE),
        ("purchase_orders.csv", "row 5", "supplier_id", C.UNKNOWN_REFERENCE),
        ("purchase_order_lines.csv", "row 5", "purchase_order_id", C.UNKNOWN_REFERENCE),
        ("purchase_order_lines.csv", "row 6", "quantity", C.NEGATIVE_QUANTITY),
        ("purchase_order_lines.csv", "row 7", "unit_price", C.INVALID_AMOUNT),
        ("purchase_order_lines.csv", "row 8", "category", C.INVALID_VALUE),
        ("purchase_order_lines.csv", "row 9", "line_no", C.DUPLICATE),
        ("goods_receipts.csv", "row 4", "line_no", C.UNKNOWN_REFERENCE),
        ("goods_receipts.csv", "row 5", "id", C.INVALID_ID),
        ("goods_receipts.csv", "row 6", "received_at", C.INVALID_DATE),
        ("contract_prices.csv", "row 3", "valid_to", C.DATE_RANGE),
    ]


def test_each_problem_reads_as_one_line_naming_the_other_row_of_a_duplicate():
    # when
    _, problems = read_csv_files(PLANTED, known=KnownIds())

    # then
    lines = [problem.line() for problem in problems]
    assert "suppliers.csv row 6: id: DUPLICATE: SUP-000001 is also at suppliers.csv row 2" in lines
    assert (
        "purchase_order_lines.csv row 7: unit_price: INVALID_AMOUNT: "
        "9.80125 has 5 decimal places; at most 4 are allowed"
    ) in lines
    delimiter = next(p for p in problems if p.file == "supplier_vendor_links.csv")
    assert "delimiter must be a comma" in delimiter.message


def test_a_missing_required_column_is_one_problem_not_one_per_row():
    # given purchase_order_lines.csv without its unit_price column
    lines = "\n".join(
        row.rsplit(",", 2)[0] + "," + row.rsplit(",", 1)[1]
        for row in CSV_TEXT["purchase_order_lines.csv"].splitlines()
    )

    # when
    found = report(csv_files(purchase_order_lines=lines + "\n"))

    # then
    assert found == [("purchase_order_lines.csv", "row 1", "unit_price", C.MISSING_COLUMN)]


def test_an_optional_column_may_be_left_out():
    # given supplier_contacts.csv without phone, suppliers.csv without the bank columns
    contacts = "supplier_id,name,email,role\nSUP-000001,Sarah Lopez,s@juniper.example,sales\n"
    suppliers = """\
id,legal_name,tax_id,status,payment_terms,tax_treatment,tax_rate
SUP-000001,Juniper Medical Products,99-5194349,ACTIVE,NET45,STANDARD,0.0825
SUP-000002,Crescent Pharma,12-3456789,ON_HOLD,NET30,EXEMPT,0
"""

    # when
    bundle, problems = read_csv_files(csv_files(supplier_contacts=contacts, suppliers=suppliers))

    # then
    assert problems == []
    assert bundle is not None
    assert [entry.supplier.remit_to for entry in bundle.suppliers] == [None, None]
    assert bundle.suppliers[0].supplier.contacts[0].phone is None


def test_a_half_given_bank_account_names_each_missing_part():
    # given
    suppliers = CSV_TEXT["suppliers.csv"].replace("0,,,", "0,First Bank,,")

    # when
    found = report(csv_files(suppliers=suppliers))

    # then
    assert found == [
        ("suppliers.csv", "row 3", "remit_to_routing_number", C.REQUIRED),
        ("suppliers.csv", "row 3", "remit_to_account_number", C.REQUIRED),
    ]


def test_a_po_line_in_another_currency_than_its_order_is_refused():
    # given
    lines = CSV_TEXT["purchase_order_lines.csv"].replace("2.8074,USD", "2.8074,EUR")

    # when
    found = report(csv_files(purchase_order_lines=lines))

    # then
    assert found == [("purchase_order_lines.csv", "row 4", "currency", C.INVALID_VALUE)]


def test_a_zero_quantity_is_refused_but_is_not_negative():
    # given
    lines = CSV_TEXT["purchase_order_lines.csv"].replace(",8,BX", ",0,BX")

    # when
    found = report(csv_files(purchase_order_lines=lines))

    # then
    assert found == [("purchase_order_lines.csv", "row 2", "quantity", C.INVALID_VALUE)]


def test_a_cost_center_id_must_spell_its_facility_and_segment():
    # given
    centers = CSV_TEXT["cost_centers.csv"].replace(
        "CC-0004-7400,FAC-0004,7400", "CC-0004-7400,FAC-0004,7410"
    )

    # when
    found = report(csv_files(cost_centers=centers))

    # then
    assert found == [("cost_centers.csv", "row 3", "id", C.INVALID_VALUE)]


def test_an_exempt_supplier_bills_no_tax():
    # given
    suppliers = CSV_TEXT["suppliers.csv"].replace("EXEMPT,0,", "EXEMPT,0.05,")

    # when
    found = report(csv_files(suppliers=suppliers))

    # then
    assert found == [("suppliers.csv", "row 3", "tax_rate", C.INVALID_VALUE)]


def test_a_missing_entity_file_means_no_rows_of_it():
    # given a bundle of facilities only
    files = {"facilities.csv": CSV_TEXT["facilities.csv"].encode()}

    # when
    bundle, problems = read_csv_files(files, known=KnownIds())

    # then
    assert problems == []
    assert bundle is not None
    assert bundle.counts()["facilities"] == 2
    assert bundle.policy is None


def test_a_policy_problem_points_into_policy_json():
    # given
    policy = CSV_TEXT["policy.json"].replace('"price_absolute": "0.00"', '"price_absolute": "x"')

    # when
    found = report(csv_files(policy=policy))

    # then
    assert found == [
        ("policy.json", "/categories/PHARMACY/price_absolute", "price_absolute", C.INVALID_POLICY)
    ]


def test_a_supplier_has_one_vendor_key_per_erp_and_a_key_belongs_to_one_supplier():
    # given a second legacy key for SUP-000001, and its cloud key given to SUP-000002 too
    links = CSV_TEXT["supplier_vendor_links.csv"] + (
        "SUP-000001,legacy,V70009\nSUP-000002,cloud,C70001\n"
    )

    # when
    found = report(csv_files(supplier_vendor_links=links))

    # then
    assert found == [
        ("supplier_vendor_links.csv", "row 4", "system", C.DUPLICATE),
        ("supplier_vendor_links.csv", "row 5", "vendor_key", C.DUPLICATE),
    ]
