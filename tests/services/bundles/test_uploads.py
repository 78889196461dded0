"""An uploaded bundle: the JSON form, or the CSV folder zipped, never inflated past its limit."""

import io
import zipfile

from apgraph.demo import generator
from apgraph.domain.bundle import BundleCode
from apgraph.services.bundles import read_upload, write_csv, write_json
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
