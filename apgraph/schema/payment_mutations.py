"""Inputs and payloads of the payment mutations: `{ <object>, userErrors }`, both nullable
or empty (Shopify rules 22-24)."""

import datetime
from typing import Self

import strawberry

from apgraph.domain.payment_runs import PaymentRun
from apgraph.domain.payments import Payment
from apgraph.domain.problems import Outcome, Problem
from apgraph.schema.payment_runs import PaymentRunType
from apgraph.schema.payments import PaymentType
from apgraph.schema.user_errors import UserError, user_errors


@strawberry.input(
    name="SchedulePaymentRunInput",
    description="Which facility's payments, due by which date, go into a new payment run.",
)
class SchedulePaymentRunInput:
    facility_id: strawberry.ID = strawberry.field(
        description="A facility whose payments you manage."
    )
    pay_date: datetime.date = strawberry.field(
        description="Pays the scheduled payments due on or before it; today or later."
    )
    payment_ids: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="Only these payments (each scheduled, due and not on hold); null: all due.",
    )


@strawberry.type(name="PaymentRunPayload", description="A payment-run command's result.")
class PaymentRunPayload:
    run: PaymentRunType | None = strawberry.field(
        description="The run as it stands after the command; null when it was refused."
    )
    held: list[PaymentType] = strawberry.field(
        description=(
            "Payments due by the pay date but kept out of the run by a hold (see holdReason); "
            "at release, those pulled out because a hold came up since approval."
        )
    )
    exceptions: list[PaymentType] = strawberry.field(
        description="At release: payments not paid because the bank account changed since approval."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the command was refused, next to the fields at fault."
    )

    @classmethod
    def of(
        cls,
        problems: tuple[Problem, ...],
        run: PaymentRun | None,
        held: tuple[Payment, ...] = (),
        exceptions: tuple[Payment, ...] = (),
    ) -> Self:
        return cls(
            run=PaymentRunType.from_domain(run) if run is not None else None,
            held=[PaymentType.from_domain(p) for p in held],
            exceptions=[PaymentType.from_domain(p) for p in exceptions],
            user_errors=user_errors(problems),
        )


@strawberry.type(name="PaymentPayload", description="A payment command's result.")
class PaymentPayload:
    payment: PaymentType | None = strawberry.field(
        description="The payment as it stands after the command; null when it was refused."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why the command was refused, next to the fields at fault."
    )

    @classmethod
    def from_outcome(cls, outcome: Outcome[Payment]) -> Self:
        payment = outcome.value
        return cls(
            payment=PaymentType.from_domain(payment) if payment is not None else None,
            user_errors=user_errors(outcome.problems),
        )
