"""importMasterData over HTTP (GraphQL multipart request spec), on both databases.

Finance ops upload a bundle and get the report back as data: every problem with its file,
row and code, the counts per entity; nothing is written unless the whole bundle is valid and
it is not a dry run. Anyone without `master-data:import` is refused before a byte is read.
"""

import io
import itertools
import json
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from apgraph.domain.bundle import FacilityEntry, MasterDataBundle, PurchaseOrderEntry
from apgraph.domain.erp import MigrationMode
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.ids import (
    ContractPriceId,
    FacilityId,
    GoodsReceiptId,
    PurchaseOrderId,
    cost_center_for,
)
from apgraph.domain.principal import Role
from apgraph.domain.purchasing import (
    Category,
    ContractPrice,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from apgraph.domain.systems import ExternalSystem
from apgraph.services.bundles import write_csv, write_json

IMPORT = """
mutation Import($bundle: Upload!, $dryRun: Boolean!) {
  importMasterData(bundle: $bundle, dryRun: $dryRun) {
    valid applied dryRun
    problems { file location field code message }
    counts { entity rows created updated unchanged }
  }
}
"""
FACILITY = "query($id: ID!) { facility(id: $id) { id name } }"
_numbers = itertools.count(1)


def hospital(network) -> MasterDataBundle:
    """A small acquired hospital with IDs no other test uses: a cost center, one PO of a
    known supplier with its receipt, and a contract price."""
    n = next(_numbers)
    facility_id = FacilityId(f"FAC-08{n:02d}")
    order_id = PurchaseOrderId(f"PO-2026-8{n:05d}")
    center = CostCenter(
        cost_center_for(facility_id, "4410"), facility_id, "4410", "Med-Surg", True, ("dana.acq",)
    )
    supplier = network.suppliers[0]
    return MasterDataBundle(
        facilities=(
            FacilityEntry(
                Facility(facility_id, f"Acquired Hospital {n}", "Midwest", "America/Chicago"),
                ExternalSystem.LEGACY_ERP,
                MigrationMode.LEGACY,
            ),
        ),
        cost_centers=(center,),
        purchase_orders=(
            PurchaseOrderEntry(
                PurchaseOrder(
                    order_id,
                    supplier.id,
                    facility_id,
                    center.id,
                    PurchaseOrderStatus.OPEN,
                    "USD",
                    date(2026, 11, 2),
                ),
                (
                    PurchaseOrderLine(
                        1,
                        f"ITM-ACQ-{n}",
                        "Suture kit",
                        Category.MEDICAL_SUPPLIES,
                        Decimal("10"),
                        "EA",
                        Decimal("12.50"),
                    ),
                ),
            ),
        ),
        goods_receipts=(
            GoodsReceipt(
                GoodsReceiptId(f"GR-0880{n:04d}"),
                order_id,
                1,
                Decimal("10"),
                datetime(2026, 11, 9, 14, 0, tzinfo=UTC),
            ),
        ),
        contract_prices=(
            ContractPrice(
                ContractPriceId(f"CT-88{n:04d}"),
                supplier.id,
                f"ITM-ACQ-{n}",
                Decimal("12.0000"),
                "USD",
                date(2026, 1, 1),
                date(2026, 12, 31),
            ),
        ),
    )


async def upload(
    api,
    name: str,
    data: bytes,
    *,
    dry_run: bool = False,
    token: Any = ...,
    product: str | None = None,
):
    """One multipart request as the spec has it: operations, map, then the file."""
    operations = {"query": IMPORT, "variables": {"bundle": None, "dryRun": dry_run}}
    response = await api.client.post(
        api.path(product),
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.bundle"]})},
        files={"0": (name, data, "application/octet-stream")},
        headers=api.headers(token),
    )
    return response


async def imported(api, name: str, data: bytes, **options) -> dict[str, Any]:
    response = await upload(api, name, data, **options)
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    return body["data"]["importMasterData"]


def zipped(files: dict[str, bytes]) -> bytes:
    """The CSV form as `importMasterData` takes it: the files in one .zip."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, data in files.items():
            bundle.writestr(name, data)
    return archive.getvalue()


def counts(report) -> dict[str, tuple[int, int, int, int]]:
    return {
        c["entity"]: (c["rows"], c["created"], c["updated"], c["unchanged"])
        for c in report["counts"]
    }


async def test_a_dry_run_reports_and_writes_nothing(workflow_api, network):
    bundle = hospital(network)
    facility_id = bundle.facilities[0].facility.id

    report = await imported(workflow_api, "bundle.json", write_json(bundle), dry_run=True)

    assert (report["valid"], report["applied"], report["dryRun"]) == (True, False, True)
    assert counts(report)["purchase_order_lines"] == (1, 1, 0, 0)  # would be created
    assert (await workflow_api.data(FACILITY, {"id": facility_id}))["facility"] is None


async def test_an_import_is_applied_once_and_a_second_upload_changes_nothing(workflow_api, network):
    bundle = hospital(network)
    facility_id = bundle.facilities[0].facility.id

    first = await imported(workflow_api, "bundle.json", write_json(bundle))
    again = await imported(workflow_api, "bundle.json", write_json(bundle))

    assert (first["valid"], first["applied"]) == (True, True)
    assert counts(first)["facilities"] == (1, 1, 0, 0)
    assert counts(first)["goods_receipts"] == (1, 1, 0, 0)
    assert all(created == updated == 0 for _, created, updated, _ in counts(again).values())
    found = await workflow_api.data(FACILITY, {"id": facility_id})
    assert found["facility"] == {"id": facility_id, "name": bundle.facilities[0].facility.name}
    # and the running server's connectors know the new hospital's receipt at once
    receipts = await workflow_api.runtime.connectors.goods_receipts.receipts_for(
        bundle.purchase_orders[0].order.id
    )
    assert [r.quantity for r in receipts] == [Decimal(10)]


async def test_the_csv_files_zipped_import_like_the_json_form(workflow_api, network):
    bundle = hospital(network)
    report = await imported(workflow_api, "hospital.zip", zipped(write_csv(bundle)))

    assert (report["valid"], report["applied"]) == (True, True)
    assert counts(report)["cost_centers"] == (1, 1, 0, 0)


async def test_a_bundle_with_problems_reports_each_and_writes_nothing(workflow_api, network):
    bundle = hospital(network)
    facility_id = bundle.facilities[0].facility.id
    files = write_csv(bundle)
    header, receipt = files["goods_receipts.csv"].decode().splitlines()
    negative = receipt.replace(",1,10,", ",1,-3,")
    files["goods_receipts.csv"] = f"{header}\n{negative}\n".encode()
    files["contract_prices.csv"] = files["contract_prices.csv"].replace(
        b"2026-12-31", b"2025-12-31"
    )

    report = await imported(workflow_api, "hospital.zip", zipped(files))

    assert (report["valid"], report["applied"]) == (False, False)
    assert sorted(
        (p["file"], p["location"], p["field"], p["code"]) for p in report["problems"]
    ) == [
        ("contract_prices.csv", "row 2", "valid_to", "DATE_RANGE"),
        ("goods_receipts.csv", "row 2", "quantity", "NEGATIVE_QUANTITY"),
    ]
    assert (await workflow_api.data(FACILITY, {"id": facility_id}))["facility"] is None


async def test_malformed_json_is_one_problem_not_an_error(workflow_api):
    report = await imported(workflow_api, "bundle.json", b'{"format": "apgraph.master-data",')

    assert report["valid"] is False
    assert [(p["file"], p["code"]) for p in report["problems"]] == [("bundle.json", "MALFORMED")]


async def test_without_the_import_scope_nothing_is_read_or_written(workflow_api, network):
    bundle = hospital(network)
    facility_id = bundle.facilities[0].facility.id
    # each on its own product: finance roles reach the mutation and are refused at the
    # field; on the supplier portal neither it nor its Upload type is in the view
    callers = {
        "approver": (
            workflow_api.token(Role.APPROVER, facility_ids=["FAC-0001"]),
            "finance-ops/v1",
            "FORBIDDEN",
        ),
        "supplier": (
            workflow_api.token(Role.SUPPLIER, supplier_id=network.suppliers[0].id),
            "supplier-portal/v1",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        "auditor": (workflow_api.token(Role.AUDITOR), "finance-ops/v1", "FORBIDDEN"),
    }
    for who, (token, product, code) in callers.items():
        response = await upload(
            workflow_api, "bundle.json", write_json(bundle), token=token, product=product
        )
        body = response.json()
        assert body["data"] == {"importMasterData": None} or body["data"] is None, who
        assert {e["extensions"]["code"] for e in body["errors"]} == {code}, who

    anonymous = await upload(workflow_api, "bundle.json", write_json(bundle), token=None)
    assert anonymous.status_code == 401
    assert (await workflow_api.data(FACILITY, {"id": facility_id}))["facility"] is None


async def test_a_receipt_for_a_po_line_neither_bundled_nor_stored_is_placed_by_row(
    workflow_api, network
):
    bundle = hospital(network)
    files = write_csv(bundle)
    header, receipt = files["goods_receipts.csv"].decode().splitlines()
    files["goods_receipts.csv"] = f"{header}\n{receipt.replace(',1,10,', ',7,3,')}\n".encode()

    report = await imported(workflow_api, "hospital.zip", zipped(files))

    assert [(p["file"], p["location"], p["field"], p["code"]) for p in report["problems"]] == [
        ("goods_receipts.csv", "row 2", "line_no", "UNKNOWN_REFERENCE")
    ]


async def test_a_bad_row_does_not_hide_another_rows_unknown_reference(workflow_api, network):
    # given the hospital's receipt with a negative quantity, and a second receipt on a PO that
    # is neither in the bundle nor stored (its PO names a stored supplier: no problem)
    bundle = hospital(network)
    facility_id = bundle.facilities[0].facility.id
    files = write_csv(bundle)
    header, receipt = files["goods_receipts.csv"].decode().splitlines()
    negative = receipt.replace(",1,10,", ",1,-3,")
    stranger = "GR-08899999,PO-2026-899999,1,4,2026-11-09T14:00:00Z"
    files["goods_receipts.csv"] = f"{header}\n{negative}\n{stranger}\n".encode()

    # when it is uploaded
    report = await imported(workflow_api, "hospital.zip", zipped(files))

    # then both rows are reported, by file and row, and nothing is written
    assert (report["valid"], report["applied"]) == (False, False)
    assert [(p["file"], p["location"], p["field"], p["code"]) for p in report["problems"]] == [
        ("goods_receipts.csv", "row 2", "quantity", "NEGATIVE_QUANTITY"),
        ("goods_receipts.csv", "row 3", "purchase_order_id", "UNKNOWN_REFERENCE"),
    ]
    assert (await workflow_api.data(FACILITY, {"id": facility_id}))["facility"] is None


async def test_a_malformed_multipart_request_is_the_clients_error(workflow_api, network):
    # `operations` sent as a file part (curl -F operations=@file) rather than a form field
    operations = json.dumps({"query": IMPORT, "variables": {"bundle": None, "dryRun": True}})
    response = await workflow_api.client.post(
        "/graphql",
        data={"map": json.dumps({"0": ["variables.bundle"]})},
        files={
            "operations": ("ops.json", operations.encode(), "application/json"),
            "0": ("bundle.json", write_json(hospital(network)), "application/json"),
        },
        headers=workflow_api.headers(...),
    )

    assert response.status_code == 400
    assert "multipart" in response.text
