"""Unreadable input is reported as problems, never raised: one per unreadable file, with the
line or row where reading stopped, and the other files are still read."""

import codecs
from pathlib import Path

from apgraph.domain.bundle import BundleCode
from apgraph.services.bundles import (
    DEFAULT_MAX_BYTES,
    KnownIds,
    read_bundle_path,
    read_csv_files,
    read_json,
    write_bundle_path,
    write_json,
)
from tests.services.bundles.examples import CSV_TEXT, csv_files

C = BundleCode


def found(result):
    bundle, problems = result
    assert bundle is None
    return [(p.file, p.location, p.field, p.code) for p in problems]


def test_bytes_that_are_not_json_are_malformed():
    assert found(read_json(b"facilities: []")) == [
        ("bundle.json", "line 1 column 1", None, C.MALFORMED)
    ]


def test_truncated_json_is_malformed_at_the_line_where_it_stops():
    # given
    bundle, _ = read_csv_files(csv_files())
    text = write_json(bundle)[:200]

    # when
    problems = found(read_json(text, name="network.json"))

    # then
    [(file, location, _, code)] = problems
    assert (file, code) == ("network.json", C.MALFORMED)
    lines = text.count(b"\n") + 1
    assert location.startswith(f"line {lines} column ")


def test_a_json_document_that_is_not_an_object_is_a_schema_problem():
    assert found(read_json(b"[]")) == [("bundle.json", "/", None, C.SCHEMA)]


def test_a_utf8_bom_is_accepted():
    # given
    bundle, _ = read_csv_files(csv_files())
    with_bom = {name: codecs.BOM_UTF8 + data for name, data in csv_files().items()}

    # when
    from_csv, csv_problems = read_csv_files(with_bom)
    from_json, json_problems = read_json(codecs.BOM_UTF8 + write_json(bundle))

    # then
    assert (csv_problems, json_problems) == ([], [])
    assert from_csv == from_json == bundle


def test_latin1_bytes_are_malformed_with_their_row_and_the_other_files_are_still_read():
    # given facilities.csv saved as latin-1, and a bad date in purchase_orders.csv
    facilities = CSV_TEXT["facilities.csv"].replace("Lakeside Clinic", "Clinique Sainte-Thérèse")
    files = csv_files(
        purchase_orders=CSV_TEXT["purchase_orders.csv"].replace("2026-01-06", "06/01/2026")
    )
    files["facilities.csv"] = facilities.encode("latin-1")

    # when
    problems = found(read_csv_files(files, known=KnownIds()))

    # then the unreadable file is one problem, and its rows are not missed by the others
    assert problems == [
        ("facilities.csv", "row 3", None, C.MALFORMED),
        ("purchase_orders.csv", "row 3", "ordered_on", C.INVALID_DATE),
    ]


def test_an_empty_csv_file_has_no_header():
    assert found(read_csv_files(csv_files(contract_prices=""))) == [
        ("contract_prices.csv", "row 1", None, C.MALFORMED)
    ]


def test_a_row_with_the_wrong_number_of_cells_is_malformed():
    # given
    receipts = CSV_TEXT["goods_receipts.csv"] + "GR-00000003,PO-2026-000001,2,1\n"

    # then
    assert found(read_csv_files(csv_files(goods_receipts=receipts))) == [
        ("goods_receipts.csv", "row 4", None, C.MALFORMED)
    ]


def test_an_unterminated_quote_is_malformed():
    # given
    lines = CSV_TEXT["purchase_order_lines.csv"] + 'PO-2026-000001,3,ITM-1,"Gauze,MEDICAL_SUPPLIES'

    # then
    [(file, _, _, code)] = found(read_csv_files(csv_files(purchase_order_lines=lines)))
    assert (file, code) == ("purchase_order_lines.csv", C.MALFORMED)


def test_an_unknown_file_is_reported():
    # given
    files = csv_files()
    files["notes.txt"] = b"remember the milk"

    # then
    assert found(read_csv_files(files)) == [("notes.txt", "file", None, C.UNKNOWN_FILE)]


def test_a_malformed_policy_file_is_reported():
    assert found(read_csv_files(csv_files(policy="{"))) == [
        ("policy.json", "line 1 column 2", None, C.MALFORMED)
    ]


def test_an_unreadable_owner_file_does_not_make_every_line_an_unknown_reference():
    # given purchase_orders.csv that cannot be read, and its lines and receipts that can
    files = csv_files()
    files["purchase_orders.csv"] = b"\xff\xfe" + files["purchase_orders.csv"]

    # then
    assert found(read_csv_files(files, known=KnownIds())) == [
        ("purchase_orders.csv", "row 1", None, C.MALFORMED)
    ]


def test_a_file_over_the_limit_is_refused_by_its_size(tmp_path: Path):
    # given a bundle file of 1 KiB and a limit of 100 bytes
    path = tmp_path / "bundle.json"
    bundle, _ = read_csv_files(csv_files())
    write_bundle_path(bundle, path, format="json")

    # then
    assert found(read_bundle_path(path, max_bytes=100)) == [
        ("bundle.json", "file", None, C.TOO_LARGE)
    ]


def test_a_200_mb_file_is_refused_without_being_read(tmp_path: Path):
    # given a sparse file of 200 MB (no disk used, and reading it would take seconds)
    path = tmp_path / "huge.json"
    with path.open("wb") as file:
        file.truncate(200 * 1024 * 1024)

    # then
    assert DEFAULT_MAX_BYTES < 200 * 1024 * 1024
    assert found(read_bundle_path(path)) == [("huge.json", "file", None, C.TOO_LARGE)]


def test_a_csv_file_over_the_limit_is_refused_and_the_others_are_read(tmp_path: Path):
    # given a folder whose purchase_order_lines.csv is too large, and a bad date elsewhere
    files = csv_files(
        contract_prices=CSV_TEXT["contract_prices.csv"].replace("2025-11-12", "2025-13-12")
    )
    files["purchase_order_lines.csv"] += b"#" * 2000
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / ".DS_Store").write_bytes(b"\0")

    # when
    problems = found(read_bundle_path(tmp_path, max_bytes=1500, known=KnownIds()))

    # then receipts on its lines are not reported as unknown lines
    assert problems == [
        ("purchase_order_lines.csv", "file", None, C.TOO_LARGE),
        ("contract_prices.csv", "row 2", "valid_from", C.INVALID_DATE),
    ]


def test_a_path_that_does_not_exist_is_a_missing_file(tmp_path: Path):
    assert found(read_bundle_path(tmp_path / "nowhere.json")) == [
        ("nowhere.json", "file", None, C.MISSING_FILE)
    ]


def test_a_file_that_is_not_json_nor_a_folder_is_refused(tmp_path: Path):
    # given
    path = tmp_path / "facilities.csv"
    path.write_text(CSV_TEXT["facilities.csv"])

    # then
    assert found(read_bundle_path(path)) == [("facilities.csv", "file", None, C.UNKNOWN_FILE)]


def test_an_empty_folder_is_missing_its_files(tmp_path: Path):
    assert [p.code for p in read_bundle_path(tmp_path)[1]] == [C.MISSING_FILE]


def test_deeply_nested_json_is_malformed_not_a_crash():
    assert [p.code for p in read_json(b"[" * 100_000)[1]] == [C.MALFORMED]
