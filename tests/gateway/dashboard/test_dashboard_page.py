"""The operations dashboard in a real browser, offline but for the server: its figures are
the API's, and an invoice submitted meanwhile shows without a reload."""

import os
import shutil
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from playwright.async_api import expect

from apgraph.domain.money import round_half_up
from apgraph.domain.principal import Role
from apgraph.domain.purchasing import PurchaseOrderStatus
from apgraph.domain.suppliers import SupplierStatus, TaxTreatment
from tests.browser import offline_page

COUNTS = """
query {
  all: invoices { totalCount }
  rejected: invoices(filter: {status: [REJECTED]}) { totalCount }
  exception: invoices(filter: {status: [EXCEPTION]}) { totalCount }
}
"""
SUBMIT = """
mutation Submit($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) { invoice { id status } userErrors { code } }
}
"""


def invoice_on_a_closed_po(network) -> tuple[str, dict]:
    """An invoice its supplier may send but the PO no longer takes: stored as REJECTED."""
    suppliers = {s.id: s for s in network.suppliers if s.status is SupplierStatus.ACTIVE}
    order = next(
        o
        for o in network.purchase_orders
        if o.status is PurchaseOrderStatus.CLOSED and o.supplier_id in suppliers
    )
    line = next(line for po, line in network.purchase_order_lines if po == order.id)
    supplier = suppliers[order.supplier_id]
    subtotal = line.unit_price
    rate = supplier.tax_rate if supplier.tax_treatment is TaxTreatment.STANDARD else Decimal(0)
    tax = round_half_up(subtotal * rate, 2)
    return supplier.id, {
        "supplierId": supplier.id,
        "supplierInvoiceNumber": f"DASH-{uuid.uuid4().hex[:8]}",
        "facilityId": order.facility_id,
        "costCenterId": order.cost_center_id,
        "purchaseOrderId": order.id,
        "invoiceDate": datetime.now(UTC).date().isoformat(),
        "currency": order.currency,
        "subtotal": str(subtotal),
        "tax": str(tax),
        "total": str(subtotal + tax),
        "lines": [
            {
                "poLineNo": line.line_no,
                "quantity": "1",
                "unitOfMeasure": line.unit_of_measure,
                "unitPrice": str(line.unit_price),
                "amount": str(line.unit_price),
                "description": line.description,
            }
        ],
    }


def funnel_value(page, key: str):
    return page.locator(f'#funnel .row[data-key="{key}"] .value')


async def test_the_dashboard_shows_the_apis_figures_and_follows_a_new_invoice_live(
    live_writable_api, chromium, network, tmp_path
):
    live_api = live_writable_api  # it submits an invoice: not the attack tests' database
    origin = str(live_api.client.base_url).rstrip("/")
    before = await live_api.data(COUNTS)

    async with offline_page(chromium, origin) as opened:
        page = opened.page
        await page.set_viewport_size({"width": 1400, "height": 1100})
        # when the finance lead opens the dashboard with their token
        await page.goto(f"{origin}/dashboard#token={live_api.admin}")
        await page.locator("body[data-refreshed]").wait_for(state="attached", timeout=30_000)
        await page.locator("#live.on").wait_for(timeout=30_000)

        # then its figures are the API's, and the token left the address bar
        assert "Signed in as" in await page.locator("#who").inner_text()
        assert "#token" not in page.url
        for key, alias in (
            ("received", "all"),
            ("rejected", "rejected"),
            ("exception", "exception"),
        ):
            shown = await funnel_value(page, key).inner_text()
            assert int(shown.replace(",", "")) == before[alias]["totalCount"]
        assert await page.locator("#connectors tbody tr").count() == 5
        assert await page.locator("#payments tbody tr").count() > 0  # the demo's scheduled ones

        # when a supplier submits an invoice through the API (its PO is closed: REJECTED)
        supplier_id, invoice = invoice_on_a_closed_po(network)
        token = live_api.token(Role.SUPPLIER, supplier_id=supplier_id)
        body = await live_api.data(
            SUBMIT,
            {"input": invoice, "key": str(uuid.uuid4())},
            token=token,
            product="supplier-portal/v1",
        )
        assert body["submitInvoice"]["invoice"]["status"] == "REJECTED"

        # then the dashboard shows it without a reload
        received = f"{before['all']['totalCount'] + 1:,}"
        rejected = f"{before['rejected']['totalCount'] + 1:,}"
        # (the page's CSP forbids eval, so the waits are playwright's own, not page scripts)
        await expect(funnel_value(page, "received")).to_have_text(received, timeout=30_000)
        await expect(funnel_value(page, "rejected")).to_have_text(rejected, timeout=30_000)
        shot = tmp_path / "dashboard.png"
        await page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        if os.environ.get("APGRAPH_SCREENSHOT_DIR"):  # how docs/dashboard.png is made
            shutil.copy(shot, Path(os.environ["APGRAPH_SCREENSHOT_DIR"]) / "dashboard.png")
        assert opened.refused == []
        assert opened.console_errors == []


async def test_an_approvers_dashboard_counts_their_facilities_only(live_api, chromium, network):
    origin = str(live_api.client.base_url).rstrip("/")
    facility = network.facilities[0].id
    token = live_api.token(Role.APPROVER, facility_ids=[facility])
    theirs = (await live_api.data(COUNTS, token=token, product="finance-ops/v1"))["all"]
    theirs = theirs["totalCount"]
    everyone = (await live_api.data(COUNTS))["all"]["totalCount"]
    assert theirs < everyone

    async with offline_page(chromium, origin) as opened:
        await opened.page.goto(f"{origin}/dashboard#token={token}")
        await opened.page.locator("body[data-refreshed]").wait_for(state="attached")
        shown = await funnel_value(opened.page, "received").inner_text()
        assert int(shown.replace(",", "")) == theirs
        assert facility in await opened.page.locator("#who").inner_text()
        assert await opened.page.locator("#replay").is_hidden()


def test_the_page_and_its_assets_come_from_this_server_only(live_api):
    base = str(live_api.client.base_url)
    page = httpx.get(f"{base}/dashboard")
    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "Bearer ey" not in page.text  # the page holds no token and no data
    for asset in ("dashboard.js", "dashboard.css"):
        assert httpx.get(f"{base}/dashboard/assets/{asset}").status_code == 200
    assert httpx.get(f"{base}/dashboard/assets/..%2Fpage.py").status_code == 404
