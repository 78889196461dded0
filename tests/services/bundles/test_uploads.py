"""An uploaded bundle: the JSON form, or the CSV folder zipped, never inflated past its limit."""

import io
import zipfile

from apgraph.demo import generator
from apgraph.domain.bundle import BundleCode
from apgraph.services.bundles import (
    ReadLimits,
    read_upload,
    read_upload_result,
    write_csv,
    write_json,
)
from apgraph.services.bundles.uploads import read_upload_tallied
from tests.bundles import bundle_of

BUNDLE = bundle_of(
    generator.generate(
        generator.DemoSize(facilities=1, suppliers=10, purchase_orders=40, invoices=60)
    )
)


def zipped(files: dict[str, bytes], *, folder: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"{folder}{name}", data)
    return buffer.getvalue()


def test_the_json_form_and_the_zipped_csv_folder_read_back_the_same_bundle():
    assert read_upload("bundle.json", write_json(BUNDLE)) == (BUNDLE, [])
    assert read_upload("bundle.zip", zipped(write_csv(BUNDLE))) == (BUNDLE, [])
    # zipped as a folder (`zip -r bundle.zip bundle/`), with the litter macOS adds
    files = {**write_csv(BUNDLE), ".DS_Store": b"\0"}
    assert read_upload("BUNDLE.ZIP", zipped(files, folder="bundle/")) == (BUNDLE, [])


def test_an_archive_that_inflates_past_the_limit_is_refused_unread():
    # ~10 MB of zeros compress to ~10 KB
    bomb = zipped({**write_csv(BUNDLE), "suppliers.csv": b"0" * 10_000_000})
    assert len(bomb) < 100_000

    bundle, problems = read_upload("bundle.zip", bomb, max_bytes=1_000_000)

    assert bundle is None
    assert [(p.file, p.code) for p in problems] == [("bundle.zip", BundleCode.TOO_LARGE)]


def test_one_oversized_member_is_named_and_the_rest_still_checked():
    files = {**write_csv(BUNDLE), "suppliers.csv": b"x" * 600_000}

    bundle, problems = read_upload("bundle.zip", zipped(files), max_bytes=500_000)

    assert bundle is None
    assert ("suppliers.csv", BundleCode.TOO_LARGE) in [(p.file, p.code) for p in problems]


def test_what_is_not_a_bundle_is_one_clear_problem():
    cases = {
        ("bundle.zip", b"PK\x03\x04 not really"): BundleCode.MALFORMED,
        ("bundle.xlsx", b"whatever"): BundleCode.UNKNOWN_FILE,
        ("bundle.json", b"{not json"): BundleCode.MALFORMED,
    }
    for (name, data), code in cases.items():
        bundle, problems = read_upload(name, data)
        assert bundle is None
        assert [p.code for p in problems] == [code], name


def test_a_nested_folder_inside_the_bundle_is_refused():
    files = {**write_csv(BUNDLE)}
    archive = zipped({**files, "extra/notes.csv": b"a,b\n"})

    bundle, problems = read_upload("bundle.zip", archive)

    assert bundle is None
    assert [(p.file, p.code) for p in problems] == [("extra/notes.csv", BundleCode.UNKNOWN_FILE)]


SUPPLIER_HEADER = write_csv(BUNDLE)["suppliers.csv"].splitlines(keepends=True)[0]
SUPPLIER_ROW = write_csv(BUNDLE)["suppliers.csv"].splitlines(keepends=True)[1]


def test_rows_past_the_row_limit_are_never_read():
    # a small archive of one supplier row repeated: 2,000 rows against a limit of 500
    archive = zipped({"suppliers.csv": SUPPLIER_HEADER + SUPPLIER_ROW * 2_000})

    read = read_upload_result("bundle.zip", archive, limits=ReadLimits(max_rows=500))

    assert read.bundle is None
    assert [(p.file, p.location, p.code) for p in read.problems] == [
        ("suppliers.csv", "row 502", BundleCode.TOO_LARGE)
    ]


def test_the_row_limit_counts_every_file_and_the_json_form_too():
    rows = sum(write_csv(BUNDLE)[name].count(b"\n") - 1 for name in write_csv(BUNDLE))
    small = ReadLimits(max_rows=rows - 1)

    assert read_upload_result("bundle.zip", zipped(write_csv(BUNDLE)), limits=small).bundle is None
    by_json = read_upload_result("bundle.json", write_json(BUNDLE), limits=small)
    assert [(p.location, p.code) for p in by_json.problems] == [("/", BundleCode.TOO_LARGE)]
    assert (
        read_upload_result(
            "bundle.json", write_json(BUNDLE), limits=ReadLimits(max_rows=rows)
        ).bundle
        == BUNDLE
    )


def test_members_that_lie_about_their_size_count_against_the_inflated_limit():
    files = write_csv(BUNDLE)
    inflated = sum(len(data) for data in files.values())

    read = read_upload_result(
        "bundle.zip", zipped(files), limits=ReadLimits(max_inflated_bytes=inflated - 1)
    )

    assert read.bundle is None
    assert BundleCode.TOO_LARGE in {p.code for p in read.problems}


def test_a_tallied_read_lists_the_first_problems_and_counts_them_all():
    archive = zipped({"suppliers.csv": SUPPLIER_HEADER + SUPPLIER_ROW * 300})

    read = read_upload_tallied(
        "bundle.zip", archive, limits=ReadLimits(), known=None, listed_at_most=10
    )

    assert len(read.problems.listed) == 10
    assert read.problems.by_code == {BundleCode.DUPLICATE: 299}
    assert len(read.partial.suppliers) == 1  # identical rows travel back once
