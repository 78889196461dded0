"""Replaying dead letters: an operator carries a failed posting, payment release, webhook
delivery or relayed event through again, once.

The store (services/ports/dead_letters.py) holds the letters; a registry maps each kind to the
handler that replays it. Postings and payment releases are registered here; the composition
root adds the kinds its workers own (relayed events, webhook deliveries). Replaying twice has
no double effect: each handler is idempotent on its subject, and a letter once resolved answers
every later replay with its first outcome without running the handler again.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from apgraph.domain.codes import ProblemCode
from apgraph.domain.dead_letters import DeadLetter, DeadLetterKind, dead_letter_number
from apgraph.domain.ids import InvoiceId, PaymentId
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.payments import PaymentStatus
from apgraph.domain.principal import ALL_SCOPES, Principal, Role
from apgraph.domain.problems import Outcome, Problem
from apgraph.services import approvals, payment_release
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.dead_letters import (
    DeadLetterFilter,
    DeadLetterReplays,
    DeadLetterStore,
    ReplayHandler,
    ReplayResult,
)
from apgraph.services.ports.reads import PageRequest, Reads
from apgraph.services.ports.workflow import Workflow

REPLAYER = Principal(
    subject="apgraph.deadletters",
    roles=frozenset({Role.FINANCE_ADMIN}),
    scopes=frozenset(ALL_SCOPES),
)  # an operator's replay from the command line, named as such in histories and the audit
ID_PATH = ("id",)
PAGE = 200  # letters read per page while replaying many


class ReplayRegistry:
    """Kind → the handler that replays it; one handler per kind."""

    def __init__(self) -> None:
        self._handlers: dict[DeadLetterKind, ReplayHandler] = {}

    def register(self, kind: DeadLetterKind, handler: ReplayHandler) -> None:
        if kind in self._handlers:
            raise ValueError(f"{kind.value} dead letters have a replay handler already")
        self._handlers[kind] = handler

    def handler(self, kind: DeadLetterKind) -> ReplayHandler | None:
        return self._handlers.get(kind)


def workflow_replays(*, workflow: Workflow, reads: Reads, clock: Clock) -> ReplayRegistry:
    """The registry with the invoice workflow's kinds: postings and payment releases."""
    registry = ReplayRegistry()

    async def posting(letter: DeadLetter, principal: Principal) -> ReplayResult:
        return await replay_posting(
            InvoiceId(letter.subject),
            principal=principal,
            workflow=workflow,
            reads=reads,
            clock=clock,
        )

    async def release(letter: DeadLetter, principal: Principal) -> ReplayResult:
        return await replay_release(
            PaymentId(letter.subject),
            principal=principal,
            workflow=workflow,
            reads=reads,
            clock=clock,
        )

    registry.register(DeadLetterKind.POSTING, posting)
    registry.register(DeadLetterKind.PAYMENT_RELEASE, release)
    return registry


async def replay_posting(
    invoice_id: InvoiceId, *, principal: Principal, workflow: Workflow, reads: Reads, clock: Clock
) -> ReplayResult:
    """Posts again under the invoice's one posting key: the ERP answers a repeat with the first
    document. An invoice no longer POSTING_FAILED (posted meanwhile) needs nothing more."""
    outcome = await approvals.retry_posting(
        approvals.RetryPosting(invoice_id=invoice_id),
        principal=principal,
        workflow=workflow,
        reads=reads,
        clock=clock,
    )
    invoice = outcome.value
    if invoice is None:
        found = await reads.invoices.get_many([invoice_id])
        if not found:
            return ReplayResult(resolved=True, outcome=ProblemCode.INVOICE_NOT_FOUND.value)
        invoice = found[0]
    if invoice.status is InvoiceStatus.POSTING_FAILED:
        code = outcome.problems[0].code.value if outcome.problems else "ERP_UNAVAILABLE"
        return ReplayResult(resolved=False, outcome=code)
    return ReplayResult(
        resolved=True,
        outcome=" ".join(filter(None, [invoice.status.value, invoice.erp_document_ref])),
    )


async def replay_release(
    payment_id: PaymentId, *, principal: Principal, workflow: Workflow, reads: Reads, clock: Clock
) -> ReplayResult:
    """Orders the payment again under its one key (its ID): the ERP answers a repeat with the
    first order. A payment no longer RELEASE_FAILED needs nothing more."""
    outcome = await payment_release.retry_release(
        payment_id, workflow=workflow, clock=clock, principal=principal
    )
    payment = outcome.value
    if payment is None:
        found = await reads.payments.get_many([payment_id])
        if not found:
            return ReplayResult(resolved=True, outcome=ProblemCode.PAYMENT_NOT_FOUND.value)
        payment = found[0]
    if payment.status is PaymentStatus.RELEASE_FAILED:
        return ReplayResult(resolved=False, outcome="ERP_UNAVAILABLE")
    return ReplayResult(
        resolved=True, outcome=" ".join(filter(None, [payment.status.value, payment.erp_reference]))
    )


async def replay_dead_letter(
    letter_id: str,
    *,
    store: DeadLetterStore,
    replays: DeadLetterReplays,
    principal: Principal,
    clock: Clock,
) -> Outcome[DeadLetter]:
    """Replays one letter. Already resolved: DEAD_LETTER_ALREADY_REPLAYED with the letter as it
    ended, nothing run again. Failing again: DEAD_LETTER_STILL_FAILING with the letter, one
    more attempt counted by the failure's own transaction."""
    number = dead_letter_number(letter_id)
    letter = await store.get(number) if number is not None else None
    if letter is None:
        return Outcome.failed(
            Problem(ProblemCode.DEAD_LETTER_NOT_FOUND, f"no dead letter {letter_id}", ID_PATH)
        )
    if letter.resolved:
        problem = Problem(
            ProblemCode.DEAD_LETTER_ALREADY_REPLAYED,
            f"{letter.id} was resolved already: {letter.outcome}",
            ID_PATH,
        )
        return Outcome(value=letter, problems=(problem,))
    handler = replays.handler(letter.kind)
    if handler is None:
        problem = Problem(
            ProblemCode.DEAD_LETTER_NOT_REPLAYABLE,
            f"this server does not replay {letter.kind.value} dead letters",
            ID_PATH,
        )
        return Outcome(value=letter, problems=(problem,))
    result = await handler(letter, principal)
    if not result.resolved:
        # the failure's own transaction counted the attempt and kept its code
        again = await store.get(letter.number) or letter
        why = again.code if again.attempts > letter.attempts else result.outcome
        problem = Problem(
            ProblemCode.DEAD_LETTER_STILL_FAILING, f"{letter.id} still fails: {why}", ID_PATH
        )
        return Outcome(value=again, problems=(problem,))
    # the handler's own transaction may have resolved it already (a posting does): that
    # first outcome stays
    resolved = await store.mark_replayed(
        letter.number, outcome=result.outcome, by=principal.subject, at=clock.now()
    )
    return Outcome.succeeded(resolved or letter)


@dataclass(slots=True)
class ReplayReport:
    resolved: list[DeadLetter] = field(default_factory=list)
    still_failing: list[tuple[DeadLetter, str]] = field(default_factory=list)  # (letter, why)


async def open_letters(
    *, store: DeadLetterStore, kind: DeadLetterKind | None, limit: int
) -> Sequence[DeadLetter]:
    """The oldest `limit` letters waiting for a replay."""
    found: list[DeadLetter] = []
    after: str | None = None
    while len(found) < limit:
        page = await store.page(
            DeadLetterFilter(kind=kind, resolved=False),
            PageRequest(first=min(PAGE, limit - len(found)), after=after),
        )
        found.extend(page.items)
        if not page.has_next_page or not page.items:
            break
        after = page.items[-1].id
    return found


async def replay_dead_letters(
    *,
    store: DeadLetterStore,
    replays: DeadLetterReplays,
    principal: Principal,
    clock: Clock,
    kind: DeadLetterKind | None = None,
    limit: int,
    on_each: Callable[[DeadLetter], None] | None = None,
) -> ReplayReport:
    """Replays the oldest `limit` open letters (of `kind`), one at a time; one still failing
    does not stop the rest. `on_each` is told after each (a progress bar)."""
    report = ReplayReport()
    for letter in await open_letters(store=store, kind=kind, limit=limit):
        outcome = await replay_dead_letter(
            letter.id, store=store, replays=replays, principal=principal, clock=clock
        )
        codes = {p.code for p in outcome.problems}
        if outcome.ok or ProblemCode.DEAD_LETTER_ALREADY_REPLAYED in codes:
            report.resolved.append(outcome.value or letter)
        else:
            why = outcome.problems[0].message if outcome.problems else "unknown"
            report.still_failing.append((outcome.value or letter, why))
        if on_each is not None:
            on_each(letter)
    return report
