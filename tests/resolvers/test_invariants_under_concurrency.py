"""The invariants that span requests (docs/invariants.md), under requests fired at once.

Each test fires the conflicting requests through the API behind a barrier, round after round
on fresh POs, and checks the invariant afterwards. On PostgreSQL the requests really run side
by side (the row and advisory locks are what keeps them apart); on SQLite the one writer
lines them up, and the invariants must hold all the same.
"""

import asyncio
import random
import string
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from apgraph.domain.money import round_half_up
from apgraph.domain.principal import Role
from apgraph.domain.purchasing import PurchaseOrderLine
from apgraph.domain.submission import SubmittedInvoice, SubmittedLine
from apgraph.domain.suppliers import TaxTreatment
from apgraph.services.dead_letters import REPLAYER, replay_dead_letters, workflow_replays
from apgraph.simulators.faults import Fault, FaultKind
from apgraph.store.dead_letters import SqlDeadLetters
from tests.services.test_rematch import rematcher, submitted_while_materials_down
from tests.services.workflow_support import CLOCK, reads, workflow
from tests.workflow import Order, as_input, erp_postings

ROUNDS = 12
SUBMIT = """
mutation($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) {
    invoice { id status exceptions { code } } userErrors { code }
  }
}
"""
APPROVE = """
mutation($id: ID!) {
  approveInvoice(invoiceId: $id) { invoice { id status } userErrors { code } }
}
"""
RETRY = """
mutation($id: ID!) {
  retryPosting(invoiceId: $id) { invoice { id status } userErrors { code } }
}
"""
INVOICE = """
query($id: ID!) {
  invoice(id: $id) { status history { toStatus } approvals { approver decision } }
}
"""


async def at_once(*requests: Callable[[], Awaitable[Any]]) -> list[Any]:
    """Runs the requests side by side, each released by one barrier when all are ready."""
    barrier = asyncio.Barrier(len(requests))

    async def released(request: Callable[[], Awaitable[Any]]) -> Any:
        await barrier.wait()
        return await request()

    return list(await asyncio.gather(*(released(request) for request in requests)))


def billing(
    order: Order, line: PurchaseOrderLine, quantity: Decimal, *, cents_off: int, number: str = ""
) -> SubmittedInvoice:
    """An invoice that adds up, billing `quantity` of `line` a few cents under the usual price
    (each invoice of a round at another price, so no two have the same total)."""
    price = order.price(line) - Decimal("0.01") * cents_off
    assert price > 0
    amount = round_half_up(quantity * price, 2)
    tax = (
        Decimal("0.00")
        if order.supplier.tax_treatment is TaxTreatment.EXEMPT
        else round_half_up(amount * order.supplier.tax_rate, 2)
    )
    template = order.invoice({line.line_no: quantity})
    return replace(
        template,
        supplier_invoice_number=number or template.supplier_invoice_number,
        lines=(
            SubmittedLine(
                po_line_no=line.line_no,
                description=line.description,
                quantity=quantity,
                unit_of_measure=line.unit_of_measure,
                unit_price=price,
                amount=amount,
            ),
        ),
        subtotal=amount,
        tax=tax,
        total=amount + tax,
    )


FINANCE = "finance-ops/v1"  # where approvers decide


async def submit(workflow_api, order: Order, invoice: SubmittedInvoice) -> dict[str, Any]:
    body = await workflow_api.data(
        SUBMIT,
        {"input": as_input(invoice), "key": f"key-{uuid.uuid4()}"},
        token=workflow_api.token(Role.SUPPLIER, supplier_id=order.supplier.id),
        product="supplier-portal/v1",
    )
    payload = body["submitInvoice"]
    assert payload["userErrors"] == [], payload
    return payload["invoice"]


async def test_two_invoices_billing_one_po_line_at_once_never_both_post(workflow_api, orders):
    """Cumulative billing per PO line: what the POSTED invoices bill on a line never exceeds
    what was ordered, however the submissions interleave."""
    over_billed = [n for n in range(ROUNDS) if await _over_billing_round(workflow_api, orders)]
    assert over_billed == [], f"{len(over_billed)} of {ROUNDS} PO lines billed twice"


async def _over_billing_round(workflow_api, orders) -> bool:
    """True when both invoices posted."""
    # given a fully received PO line, never billed
    order = await orders.take("full")
    line = max(order.lines, key=lambda line: order.received[line.line_no])
    whole = min(order.received[line.line_no], line.quantity)

    # when two invoices each bill all of it, at the same moment
    first, second = await at_once(
        lambda: submit(workflow_api, order, billing(order, line, whole, cents_off=1)),
        lambda: submit(workflow_api, order, billing(order, line, whole, cents_off=2)),
    )

    # then at most one of them posts; the other waits for an approver as OVER_BILLED
    statuses = sorted([first["status"], second["status"]])
    if statuses.count("POSTED") > 1:
        return True
    assert statuses == ["EXCEPTION", "POSTED"], (first, second)
    held = first if first["status"] == "EXCEPTION" else second
    assert {"QTY_VARIANCE", "OVER_BILLED"} <= {e["code"] for e in held["exceptions"]}
    return False


async def test_invoices_on_different_lines_of_one_po_at_once_both_post(workflow_api, orders):
    """Serializing per PO line takes nothing from the other lines: each bills its own."""
    for _ in range(3):
        # given a fully received PO with at least two lines
        order = await orders.take("full", lines=2)

        # when each line is billed in full by its own invoice, at the same moment
        results = await at_once(
            *(
                partial(submit, workflow_api, order, _all_of(order, line, cents_off=n))
                for n, line in enumerate(order.lines[:2], start=1)
            )
        )

        # then both post
        assert [result["status"] for result in results] == ["POSTED", "POSTED"], results


def _all_of(order: Order, line: PurchaseOrderLine, *, cents_off: int) -> SubmittedInvoice:
    return billing(order, line, order.received[line.line_no], cents_off=cents_off)


async def test_one_invoice_number_sent_twice_at_once_is_kept_once(workflow_api, orders):
    """Duplicate detection per supplier: of two invoices with one number (written two ways),
    fired at once, one is REJECTED as DUPLICATE_INVOICE."""
    kept_twice = [n for n in range(ROUNDS) if not await _duplicate_round(workflow_api, orders)]
    assert kept_twice == [], f"{len(kept_twice)} of {ROUNDS} numbers kept twice"


async def _duplicate_round(workflow_api, orders) -> bool:
    """True when exactly one of the two was rejected as a duplicate."""
    order = await orders.take("full")
    line = order.lines[0]
    quantity = min(order.received.get(line.line_no, 0), line.quantity) or Decimal(1)
    token = "".join(random.choices(string.ascii_uppercase, k=10))
    numbers = (f"RACE-{token}-001", f"race {token}\u20130001")  # one number, written two ways
    results = await at_once(
        *(
            partial(
                submit,
                workflow_api,
                order,
                billing(order, line, quantity, cents_off=n, number=number),
            )
            for n, number in enumerate(numbers, start=1)
        )
    )
    rejected = [r for r in results if r["status"] == "REJECTED"]
    if len(rejected) != 1:
        return False
    assert [e["code"] for e in rejected[0]["exceptions"]] == ["DUPLICATE_INVOICE"]
    return True


async def test_the_same_approver_twice_at_once_is_one_approval_of_two(workflow_api, orders):
    """The two-approver rule: one approver's two requests at once never count as two."""
    for _ in range(ROUNDS // 2):
        order, invoice_id = await _large_exception(workflow_api, orders)
        token = _approver(workflow_api, order.cost_center.approvers[0], order)
        approve = partial(
            workflow_api.data, APPROVE, {"id": invoice_id}, token=token, product=FINANCE
        )

        results = await at_once(approve, approve)

        codes = sorted(
            error["code"] for result in results for error in result["approveInvoice"]["userErrors"]
        )
        assert codes == ["ALREADY_APPROVED_BY_YOU"]
        invoice = (await workflow_api.data(INVOICE, {"id": invoice_id}))["invoice"]
        assert invoice["status"] == "EXCEPTION"
        assert len(invoice["approvals"]) == 1
        assert erp_postings(workflow_api.runtime, invoice_id, order.order.facility_id) == 0


async def test_two_distinct_approvers_at_once_complete_the_set_and_post_once(workflow_api, orders):
    """The two-approver rule, from the other side: two distinct approvers approving at once
    both count, and the invoice posts once."""
    for _ in range(ROUNDS // 2):
        order, invoice_id = await _large_exception(workflow_api, orders)
        first, second = (_approver(workflow_api, s, order) for s in order.cost_center.approvers[:2])

        await at_once(
            partial(workflow_api.data, APPROVE, {"id": invoice_id}, token=first, product=FINANCE),
            partial(workflow_api.data, APPROVE, {"id": invoice_id}, token=second, product=FINANCE),
        )

        invoice = (await workflow_api.data(INVOICE, {"id": invoice_id}))["invoice"]
        assert invoice["status"] == "POSTED"
        assert sorted(a["approver"] for a in invoice["approvals"]) == sorted(
            order.cost_center.approvers[:2]
        )
        assert erp_postings(workflow_api.runtime, invoice_id, order.order.facility_id) == 1


async def test_approval_and_retry_posting_at_once_post_once(workflow_api, orders):
    """An invoice posts once: the approval that completes the set, a second approver's and
    retryPosting (as an operator's dead-letter replay calls it) racing each other book one
    ERP document and enter POSTED once."""
    for _ in range(ROUNDS // 2):
        order, invoice_id = await _exception(workflow_api, orders)
        first, second = (_approver(workflow_api, s, order) for s in order.cost_center.approvers[:2])
        retry = partial(workflow_api.data, RETRY, {"id": invoice_id})

        await at_once(
            partial(workflow_api.data, APPROVE, {"id": invoice_id}, token=first, product=FINANCE),
            partial(workflow_api.data, APPROVE, {"id": invoice_id}, token=second, product=FINANCE),
            retry,
            retry,
        )

        invoice = (await workflow_api.data(INVOICE, {"id": invoice_id}))["invoice"]
        assert invoice["status"] == "POSTED"
        assert [h["toStatus"] for h in invoice["history"]].count("POSTED") == 1
        assert erp_postings(workflow_api.runtime, invoice_id, order.order.facility_id) == 1


async def _exception(workflow_api, orders) -> tuple[Order, str]:
    order = await orders.for_exception(approvers=2)
    invoice = await submit(workflow_api, order, order.over_received_invoice())
    assert invoice["status"] == "EXCEPTION"
    return order, invoice["id"]


_LARGE = iter(range(1, 10_000))  # one more unit each time: no two large totals alike


async def _large_exception(workflow_api, orders) -> tuple[Order, str]:
    order, submitted = await orders.for_large_exception(Decimal(40000))
    (line,) = submitted.lines
    unique = order.invoice({line.po_line_no: line.quantity + next(_LARGE)})
    invoice = await submit(workflow_api, order, unique)
    assert invoice["status"] == "EXCEPTION", invoice
    return order, invoice["id"]


def _approver(workflow_api, subject: str, order: Order) -> str:
    return workflow_api.issuer.issue(
        subject=subject,
        now=datetime.now(UTC),
        claims={"roles": [Role.APPROVER.value], "facility_ids": [order.order.facility_id]},
    ).access_token


async def test_re_match_runs_and_retry_posting_at_once_post_once(workflow_api, orders):
    """An invoice posts once: an invoice left VALIDATED while materials management was down,
    picked up by two re-match runs (two workers) while an operator asks for retryPosting."""
    for _ in range(ROUNDS // 2):
        order = await orders.take("full")
        waiting = await submitted_while_materials_down(workflow_api, order, order.clean_invoice())
        retry = partial(workflow_api.graphql, RETRY, {"id": waiting.id})

        await at_once(rematcher(workflow_api).run_once, rematcher(workflow_api).run_once, retry)

        invoice = (await workflow_api.data(INVOICE, {"id": waiting.id}))["invoice"]
        assert invoice["status"] == "POSTED"
        assert [h["toStatus"] for h in invoice["history"]].count("POSTED") == 1
        assert erp_postings(workflow_api.runtime, waiting.id, waiting.facility_id) == 1


async def test_dead_letter_replay_and_retry_posting_at_once_post_once(workflow_api, orders):
    """An invoice posts once: a dead letter (POSTING_FAILED) replayed by the operator's
    `deadletters replay` while two retryPosting requests come in."""
    runtime = workflow_api.runtime
    simulators = runtime.connectors.simulators
    for _ in range(ROUNDS // 2):
        order = await orders.take("full")
        for erp in (simulators.legacy_erp, simulators.cloud_erp):
            erp.plan.add(Fault(FaultKind.ERROR, times=None))
        try:
            failed = await submit(workflow_api, order, order.clean_invoice())
        finally:
            simulators.reset_faults()
        assert failed["status"] == "POSTING_FAILED"
        retry = partial(workflow_api.graphql, RETRY, {"id": failed["id"]})

        async def replay() -> object:
            return await replay_dead_letters(
                store=SqlDeadLetters(runtime.engine),
                replays=workflow_replays(
                    workflow=workflow(runtime), reads=reads(runtime, REPLAYER), clock=CLOCK
                ),
                principal=REPLAYER,
                clock=CLOCK,
                limit=50,
            )

        await at_once(replay, retry, retry)

        invoice = (await workflow_api.data(INVOICE, {"id": failed["id"]}))["invoice"]
        assert invoice["status"] == "POSTED"
        assert [h["toStatus"] for h in invoice["history"]].count("POSTING_FAILED") == 1
        assert [h["toStatus"] for h in invoice["history"]][-1] == "POSTED"
        assert erp_postings(runtime, failed["id"], order.order.facility_id) == 1
