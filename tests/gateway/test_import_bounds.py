"""importMasterData against the worst uploads an attacker (or a careless export) can send:
a small zip of a huge CSV of one row repeated. The work stops at the row limit, and the report
lists the first problems and counts them all, so neither the server nor the answer grows
with what the archive inflates to."""

import io
import json
import zipfile

HEADER = (
    "id,legal_name,tax_id,status,payment_terms,tax_treatment,tax_rate,"
    "remit_to_bank_name,remit_to_routing_number,remit_to_account_number\n"
)
ROW = (
    "SUP-900001,Worst Case Supply Co,12-3456789,ACTIVE,NET30,STANDARD,0.0825,"
    "Harborline Bank,030497463,6752917034\n"
)
IMPORT = """
mutation($b: Upload!) {
  importMasterData(bundle: $b, dryRun: true) {
    valid problems { file location code } problemCount problemCounts { code count }
  }
}
"""


def one_row_repeated(rows: int) -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("suppliers.csv", "w") as member,
    ):
        member.write(HEADER.encode())
        for _ in range(rows // 10_000):
            member.write((ROW * 10_000).encode())
        member.write((ROW * (rows % 10_000)).encode())
    return buffer.getvalue()


async def upload(api, archive: bytes) -> dict:
    response = await api.client.post(
        "/graphql",
        headers=api.headers(),
        data={
            "operations": json.dumps({"query": IMPORT, "variables": {"b": None}}),
            "map": json.dumps({"0": ["variables.b"]}),
        },
        files={"0": ("bundle.zip", archive, "application/zip")},
        timeout=300,
    )
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]["importMasterData"]


async def test_a_small_zip_of_sixty_megabytes_of_one_row_stops_at_the_row_limit(live_api):
    # given ~200 KB that inflate to 60 MB: some 590,000 copies of one supplier row
    archive = one_row_repeated(590_000)
    assert len(archive) < 300_000

    # when finance ops (or whoever holds their token) uploads it
    report = await upload(live_api, archive)

    # then reading stopped at the row limit: one problem, not 590,000
    assert report["valid"] is False
    assert report["problemCount"] == 1
    assert report["problems"] == [
        {"file": "suppliers.csv", "location": "row 250002", "code": "TOO_LARGE"}
    ]


async def test_a_bundle_of_duplicates_lists_the_first_thousand_and_counts_them_all(live_api):
    # given 5,000 copies of one supplier row, within every limit
    archive = one_row_repeated(5_000)

    report = await upload(live_api, archive)

    # then the report lists 1,000 problems and counts all 4,999 duplicates
    assert report["valid"] is False
    assert len(report["problems"]) == 1_000
    assert report["problems"][0] == {
        "file": "suppliers.csv",
        "location": "row 3",
        "code": "DUPLICATE",
    }
    assert report["problemCount"] == 4_999
    assert report["problemCounts"] == [{"code": "DUPLICATE", "count": 4_999}]
