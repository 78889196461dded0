"""Paid once, under requests fired at once: one run released by several checkers together,
then its payment confirmed by several callers together, round after round on fresh invoices.

On PostgreSQL the requests really run side by side (the run's and the payment's row locks,
and the ERP's idempotency key, keep them apart); on SQLite the one writer lines them up, and
the invariant must hold all the same.
"""

from collections import Counter

from tests.resolvers.test_invariants_under_concurrency import at_once
from tests.resolvers.test_payment_runs import (
    APPROVE,
    CONFIRM,
    EVENTS,
    PAYMENT,
    RELEASE,
    erp_book,
    finance,
    orders_for,
    payable_order,
    person,
    posted_and_scheduled,
    proposed,
)

ROUNDS = 8
CHECKERS = 3


async def test_a_payment_released_and_confirmed_by_many_at_once_is_paid_once(workflow_api, orders):
    twice = [n for n in range(ROUNDS) if not await _paid_once(workflow_api, orders)]
    assert twice == [], f"{len(twice)} of {ROUNDS} payments not paid exactly once"


async def _paid_once(api, orders) -> bool:
    # given an approved run of one payment
    order = await payable_order(orders)
    facility = order.order.facility_id
    invoice_id, payment = await posted_and_scheduled(api, order)
    run = await proposed(api, finance(api, person()), payment, facility)
    await api.data(APPROVE, {"id": run["id"]}, token=finance(api, person()))
    checkers = [finance(api, person()) for _ in range(CHECKERS)]

    # when several checkers release it at once, then several callers confirm it at once
    releases = await at_once(
        *(
            lambda token=token: api.data(RELEASE, {"id": run["id"]}, token=token)
            for token in checkers
        )
    )
    confirmations = await at_once(
        *(lambda: api.data(CONFIRM, {"id": payment["id"]}) for _ in range(CHECKERS))
    )

    # then every release answers the released run, one confirmation counts, the ERP holds
    # one order, and the payment and remittance events were emitted once
    assert all(r["releasePaymentRun"]["userErrors"] == [] for r in releases), releases
    codes = sorted(
        error["code"] for c in confirmations for error in c["confirmPayment"]["userErrors"]
    )
    paid = [c for c in confirmations if c["confirmPayment"]["payment"]]
    found = (await api.data(PAYMENT, {"id": payment["id"]}))["payment"]
    events = Counter(
        e["type"] for e in (await api.data(EVENTS, {"id": invoice_id}))["invoiceEvents"]
    )
    return (
        len(paid) == 1
        and codes == ["PAYMENT_ALREADY_CONFIRMED"] * (CHECKERS - 1)
        and found["status"] == "PAID"
        and orders_for(erp_book(api, facility), payment["id"]) == 1
        and (events["payment.released"], events["remittance.sent"]) == (1, 1)
    )
