"""A JSON bundle is judged as a whole: every problem is reported with its JSON pointer."""

import json

from apgraph.domain.bundle import BundleCode, MasterDataBundle
from apgraph.services.bundles import KnownIds, read_csv_files, read_json, write_json
from tests.services.bundles.examples import csv_files

C = BundleCode


def example() -> MasterDataBundle:
    bundle, problems = read_csv_files(csv_files())
    assert bundle is not None, problems
    return bundle


def document() -> dict:
    return json.loads(write_json(example()))


def report(doc: object) -> list[tuple[str, str, str | None, BundleCode]]:
    bundle, problems = read_json(json.dumps(doc).encode(), known=KnownIds())
    assert bundle is None
    return [(p.file, p.location, p.field, p.code) for p in problems]


def test_the_json_form_of_the_example_reads_as_the_csv_form_does():
    # when
    bundle, problems = read_json(write_json(example()), known=KnownIds())

    # then
    assert problems == []
    assert bundle == example()


def test_planted_errors_are_all_reported_with_their_pointer():
    # given the example with 14 errors planted
    doc = document()
    doc["facilities"][0]["erp"] = "cloud"
    doc["cost_centers"][0]["approvers"] = "dana"
    doc["suppliers"][0]["tax_rate"] = 0.0825
    doc["suppliers"][0]["remit_to"]["routing_number"] = ""
    del doc["suppliers"][0]["contacts"][0]["email"]
    doc["suppliers"][1]["nickname"] = "Crescent"
    order = doc["purchase_orders"][0]
    order["lines"][0]["unit_price"] = "101.712345"
    order["lines"][1]["quantity"] = "-2"
    order["lines"][1]["line_no"] = 1
    doc["goods_receipts"][0]["line_no"] = 9
    doc["goods_receipts"][1]["received_at"] = "2026-01-11"
    doc["contract_prices"][0]["id"] = "CT-1"
    doc["contract_prices"][0]["valid_to"] = "2025-01-01"
    doc["policy"]["categories"]["PHARMACY"]["price_percent"] = "-1"

    # when
    found = report(doc)

    # then
    f = "bundle.json"
    assert found == [
        (f, "/facilities/0/erp", "erp", C.INVALID_VALUE),
        (f, "/cost_centers/0/approvers", "approvers", C.SCHEMA),
        (f, "/suppliers/0/contacts/0/email", "email", C.REQUIRED),
        (f, "/suppliers/0/remit_to/routing_number", "remit_to.routing_number", C.REQUIRED),
        (f, "/suppliers/0/tax_rate", "tax_rate", C.SCHEMA),
        (f, "/suppliers/1/nickname", "nickname", C.SCHEMA),
        (f, "/purchase_orders/0/lines/0/unit_price", "unit_price", C.INVALID_AMOUNT),
        (f, "/purchase_orders/0/lines/1/line_no", "line_no", C.DUPLICATE),
        (f, "/purchase_orders/0/lines/1/quantity", "quantity", C.NEGATIVE_QUANTITY),
        (f, "/goods_receipts/0/line_no", "line_no", C.UNKNOWN_REFERENCE),
        (f, "/goods_receipts/1/received_at", "received_at", C.INVALID_DATE),
        (f, "/contract_prices/0/id", "id", C.INVALID_ID),
        (f, "/contract_prices/0/valid_to", "valid_to", C.DATE_RANGE),
        (f, "/policy/categories/PHARMACY/price_percent", "price_percent", C.INVALID_POLICY),
    ]


def test_a_json_number_for_an_amount_is_refused_with_the_reason():
    # given
    doc = document()
    doc["purchase_orders"][0]["lines"][0]["unit_price"] = 101.71

    # when
    _, problems = read_json(json.dumps(doc).encode())

    # then
    assert [p.line() for p in problems] == [
        "bundle.json /purchase_orders/0/lines/0/unit_price: unit_price: SCHEMA: 101.71 is not of "
        'type string (decimals are strings, "12.50": a JSON number passes through float)'
    ]


def test_a_bad_owner_id_is_reported_once_not_on_each_of_its_lines():
    # given
    doc = document()
    doc["purchase_orders"][0]["id"] = "PO-26-1"
    for receipt in doc["goods_receipts"]:
        receipt["purchase_order_id"] = "PO-2026-000002"

    # when
    found = report(doc)

    # then
    assert found == [("bundle.json", "/purchase_orders/0/id", "id", C.INVALID_ID)]


def test_an_unknown_format_or_version_is_refused():
    # given
    doc = document()
    doc["version"] = 2
    del doc["format"]

    # when
    found = report(doc)

    # then
    assert found == [
        ("bundle.json", "/format", "format", C.REQUIRED),
        ("bundle.json", "/version", "version", C.SCHEMA),
    ]


def test_entity_lists_may_be_left_out():
    # when
    bundle, problems = read_json(b'{"format": "apgraph.master-data", "version": 1}')

    # then
    assert problems == []
    assert bundle == MasterDataBundle()


def test_the_policy_is_checked_as_gateway_yaml_is():
    # given a float where a quoted decimal belongs, and a typo in a knob's name
    doc = document()
    doc["policy"]["categories"]["MEDICAL_SUPPLIES"]["price_percent"] = 2.5
    doc["policy"]["duplicate_windw_days"] = 7

    # when
    found = report(doc)

    # then
    assert found == [
        (
            "bundle.json",
            "/policy/categories/MEDICAL_SUPPLIES/price_percent",
            "price_percent",
            C.INVALID_POLICY,
        ),
        ("bundle.json", "/policy/duplicate_windw_days", "duplicate_windw_days", C.INVALID_POLICY),
    ]


def test_an_erp_named_by_its_system_name_reads_as_its_short_name_and_is_written_short():
    # given the example with its ERPs named as gateway.yaml's connectors name them
    doc = document()
    assert {facility["erp"] for facility in doc["facilities"]} <= {"legacy", "cloud"}
    for facility in doc["facilities"]:
        facility["erp"] = f"{facility['erp']}_erp"
    for supplier in doc["suppliers"]:
        for link in supplier["vendor_links"]:
            link["system"] = f"{link['system']}_erp"

    # when it is read
    bundle, problems = read_json(json.dumps(doc).encode(), known=KnownIds())

    # then it is the same bundle, written back with the short names
    assert problems == []
    assert bundle == example()
    assert json.loads(write_json(bundle)) == document()
