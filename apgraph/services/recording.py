"""Writes what a lifecycle command did into a unit of work: the invoice and every trace of it.

One function for every workflow service, so a transition is always persisted the same way:
the invoice's fields, one history record per status entered, the decision, the reasons, the
outbox events and the audit entry, all in the caller's transaction.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.domain.ids import InvoiceId
from apgraph.domain.invoice_numbers import NumberKey
from apgraph.domain.invoices import Invoice, InvoiceLine, StatusChange
from apgraph.domain.lifecycle import Transition
from apgraph.domain.principal import Principal
from apgraph.domain.problems import Outcome, Problem
from apgraph.services.ports.unit_of_work import UnitOfWork


async def record_transitions(
    uow: UnitOfWork,
    transitions: Sequence[Transition],
    *,
    actor: str,
    at: datetime,
    history_so_far: int | None,
    note: str | None = None,
) -> None:
    """Saves the invoice as the last transition left it; `history_so_far` numbers the steps
    (None: the store numbers them on after the stored history, as it saves them; the caller
    holds the invoice's row lock).

    Reasons replace the invoice's recorded ones only when a transition brings new ones
    (validation codes, match findings); an approver's decision keeps them for the record.
    """
    if not transitions:
        return
    after = history_so_far or 0
    changes = await _traces(uow, transitions, actor=actor, at=at, after=after, note=note)
    await uow.invoices.save_with_history(
        transitions[-1].invoice, changes, numbered_on=history_so_far is None
    )


async def record_new_invoice(
    uow: UnitOfWork,
    transitions: Sequence[Transition],
    lines: Sequence[InvoiceLine],
    *,
    number: NumberKey,
    actor: str,
    at: datetime,
) -> None:
    """`record_transitions` for an invoice not stored yet: it is stored as the last
    transition left it, with its lines and every status it went through (one statement on
    PostgreSQL), before the reasons and decisions that refer to it."""
    changes = _changes(transitions, actor=actor, at=at, after=0, note=None)
    await uow.invoices.add(transitions[-1].invoice, lines, number=number, history=changes)
    await _record_decisions(uow, transitions)


async def record_many(
    uow: UnitOfWork,
    moves: Sequence[Sequence[Transition]],
    *,
    actor: str,
    at: datetime,
    histories: Mapping[InvoiceId, int],
    note: str | None = None,
) -> None:
    """`record_transitions` for many invoices (one sequence of transitions each), in one
    statement per table rather than a round of statements per invoice: a payment of
    thousands of invoices is confirmed in seconds. `histories`: each invoice's history so far."""
    changes: list[StatusChange] = []
    saved: list[Invoice] = []
    for transitions in moves:
        if not transitions:
            continue
        invoice_id = transitions[-1].invoice.id
        changes += await _traces(
            uow, transitions, actor=actor, at=at, after=histories[invoice_id], note=note
        )
        saved.append(transitions[-1].invoice)
    await uow.invoices.save_many(saved)
    await uow.invoices.add_history(changes)


async def _traces(
    uow: UnitOfWork,
    transitions: Sequence[Transition],
    *,
    actor: str,
    at: datetime,
    after: int,
    note: str | None,
) -> list[StatusChange]:
    """Records the decisions, reasons and events; returns the status changes to add."""
    await _record_decisions(uow, transitions)
    return _changes(transitions, actor=actor, at=at, after=after, note=note)


def _changes(
    transitions: Sequence[Transition], *, actor: str, at: datetime, after: int, note: str | None
) -> list[StatusChange]:
    """One status change per status entered, numbered on from `after`."""
    sequence = after
    changes = []
    for transition in transitions:
        for before, entered in transition.steps:
            sequence += 1
            changes.append(
                StatusChange(
                    invoice_id=transition.invoice.id,
                    sequence=sequence,
                    at=at,
                    from_status=before,
                    to_status=entered,
                    actor=actor,
                    note=note,
                )
            )
    return changes


async def _record_decisions(uow: UnitOfWork, transitions: Sequence[Transition]) -> None:
    """Each transition's decision, reasons and events, in order."""
    for transition in transitions:
        if transition.decision is not None:
            await uow.invoices.add_approval(transition.decision)
        if transition.reasons:
            await uow.invoices.replace_exceptions(transition.invoice.id, transition.reasons)
        await uow.outbox.add(transition.events)


async def audit(
    uow: UnitOfWork,
    *,
    principal: Principal,
    action: str,
    invoice: Invoice | None,
    entity_ids: Sequence[str] = (),
    outcome: AuditOutcome = AuditOutcome.SUCCEEDED,
    detail: str | None = None,
    trace_id: str | None,
    at: datetime,
) -> None:
    """One audit entry for the command, in the unit of work of its change."""
    ids = (invoice.id, invoice.supplier_id, invoice.facility_id) if invoice else ()
    await uow.audit.add(
        [
            AuditEvent(
                subject=principal.subject,
                action=action,
                outcome=outcome,
                entity_ids=tuple(dict.fromkeys((*ids, *entity_ids))),
                client_id=principal.client_id,
                trace_id=trace_id,
                detail=detail,
            )
        ],
        at=at,
    )


async def refused(
    uow: UnitOfWork,
    problem: Problem,
    *,
    action: str,
    entity_id: str,
    seen: Invoice | None = None,
    principal: Principal,
    trace_id: str | None,
    at: datetime,
) -> Outcome[Any]:
    """A refused command changes nothing but the audit trail: who tried what on which
    entity (`seen`: the invoice, when the caller may see it), and why not. An unknown and a
    foreign entity are recorded alike, by the ID asked for, so probing shows up in the trail
    without telling the prober anything. Commits the unit of work, which holds nothing else,
    and answers the refusal."""
    await audit(
        uow,
        principal=principal,
        action=action,
        invoice=seen,
        entity_ids=(entity_id,),
        outcome=AuditOutcome.DENIED,
        detail=problem.code.value,
        trace_id=trace_id,
        at=at,
    )
    await uow.commit()
    return Outcome.failed(problem)
