"""The payment mutations: arguments → command → one service call → payload.

`payments:manage` is checked per field by the gateway (gateway.yaml `access.fields`); which
facility's payments the caller may manage is the services' question.
"""

from typing import Annotated

import strawberry

from apgraph.domain import ids
from apgraph.schema.context import Info
from apgraph.schema.errors import parse_id
from apgraph.schema.payment_mutations import (
    PaymentPayload,
    PaymentRunPayload,
    SchedulePaymentRunInput,
)
from apgraph.services import payment_holds, payment_release, payment_runs

RunId = Annotated[strawberry.ID, strawberry.argument(description="The payment run, RUN-….")]
PaymentIdArgument = Annotated[strawberry.ID, strawberry.argument(description="The payment, PAY-….")]


async def schedule_payment_run(
    info: Info,
    input: Annotated[
        SchedulePaymentRunInput,
        strawberry.argument(
            description="The facility, the pay date, and optionally which payments."
        ),
    ],
) -> PaymentRunPayload:
    ctx = info.context
    named = input.payment_ids
    outcome = await payment_runs.schedule_payment_run(
        payment_runs.SchedulePaymentRun(
            facility_id=parse_id(ids.facility, input.facility_id, argument="input.facilityId"),
            pay_date=input.pay_date,
            payment_ids=(
                tuple(
                    parse_id(ids.payment, raw, argument=f"input.paymentIds.{index}")
                    for index, raw in enumerate(named)
                )
                if named is not None
                else None
            ),
        ),
        principal=ctx.principal,
        workflow=ctx.workflow,
        reads=ctx.store,
        clock=ctx.clock,
    )
    proposal = outcome.value
    return PaymentRunPayload.of(
        outcome.problems, proposal.run if proposal else None, proposal.held if proposal else ()
    )


async def approve_payment_run(info: Info, run_id: RunId) -> PaymentRunPayload:
    ctx = info.context
    outcome = await payment_runs.approve_payment_run(
        _run_id(run_id),
        principal=ctx.principal,
        workflow=ctx.workflow,
        reads=ctx.store,
        clock=ctx.clock,
    )
    return PaymentRunPayload.of(outcome.problems, outcome.value)


async def release_payment_run(info: Info, run_id: RunId) -> PaymentRunPayload:
    ctx = info.context
    outcome = await payment_runs.release_payment_run(
        _run_id(run_id),
        principal=ctx.principal,
        workflow=ctx.workflow,
        reads=ctx.store,
        clock=ctx.clock,
    )
    released = outcome.value
    if released is None:
        return PaymentRunPayload.of(outcome.problems, None)
    return PaymentRunPayload.of(outcome.problems, released.run, released.held, released.failed)


async def cancel_payment_run(info: Info, run_id: RunId) -> PaymentRunPayload:
    ctx = info.context
    outcome = await payment_runs.cancel_payment_run(
        _run_id(run_id),
        principal=ctx.principal,
        workflow=ctx.workflow,
        reads=ctx.store,
        clock=ctx.clock,
    )
    return PaymentRunPayload.of(outcome.problems, outcome.value)


async def confirm_payment(info: Info, payment_id: PaymentIdArgument) -> PaymentPayload:
    ctx = info.context
    outcome = await payment_release.confirm_payment(
        _payment_id(payment_id), workflow=ctx.workflow, clock=ctx.clock, principal=ctx.principal
    )
    return PaymentPayload.from_outcome(outcome)


async def retry_payment_release(info: Info, payment_id: PaymentIdArgument) -> PaymentPayload:
    ctx = info.context
    outcome = await payment_release.retry_release(
        _payment_id(payment_id), workflow=ctx.workflow, clock=ctx.clock, principal=ctx.principal
    )
    return PaymentPayload.from_outcome(outcome)


async def hold_payment(
    info: Info,
    payment_id: PaymentIdArgument,
    reason: Annotated[
        str, strawberry.argument(description="Why, in words finance and auditors can read.")
    ],
) -> PaymentPayload:
    ctx = info.context
    outcome = await payment_holds.hold_payment(
        _payment_id(payment_id),
        reason,
        principal=ctx.principal,
        workflow=ctx.workflow,
        clock=ctx.clock,
    )
    return PaymentPayload.from_outcome(outcome)


async def release_payment_hold(
    info: Info,
    payment_id: PaymentIdArgument,
    note: Annotated[
        str | None, strawberry.argument(description="What the review found, for the audit trail.")
    ] = None,
) -> PaymentPayload:
    ctx = info.context
    outcome = await payment_holds.release_payment_hold(
        _payment_id(payment_id),
        note,
        principal=ctx.principal,
        workflow=ctx.workflow,
        clock=ctx.clock,
    )
    return PaymentPayload.from_outcome(outcome)


def _run_id(raw: strawberry.ID) -> ids.PaymentRunId:
    return parse_id(ids.payment_run, raw, argument="runId")


def _payment_id(raw: strawberry.ID) -> ids.PaymentId:
    return parse_id(ids.payment, raw, argument="paymentId")
