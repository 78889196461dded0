"""Writes what a lifecycle command did into a unit of work: the invoice and every trace of it.

One function for every workflow service, so a transition is always persisted the same way:
the invoice's fields, one history record per status entered, the decision, the reasons, the
outbox events and the audit entry, all in the caller's transaction.
"""

from collections.abc import Sequence
from datetime import datetime

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.domain.invoices import Invoice, StatusChange
from apgraph.domain.lifecycle import Transition
from apgraph.domain.principal import Principal
from apgraph.services.ports.unit_of_work import UnitOfWork


async def record_transitions(
    uow: UnitOfWork,
    transitions: Sequence[Transition],
    *,
    actor: str,
    at: datetime,
    history_so_far: int,
    note: str | None = None,
) -> None:
    """Saves the invoice as the last transition left it; `history_so_far` numbers the steps.

    Reasons replace the invoice's recorded ones only when a transition brings new ones
    (validation codes, match findings); an approver's decision keeps them for the record.
    """
    if not transitions:
        return
    sequence = history_so_far
    changes = []
    for transition in transitions:
        for before, after in transition.steps:
            sequence += 1
            changes.append(
                StatusChange(
                    invoice_id=transition.invoice.id,
                    sequence=sequence,
                    at=at,
                    from_status=before,
                    to_status=after,
                    actor=actor,
                    note=note,
                )
            )
        if transition.decision is not None:
            await uow.invoices.add_approval(transition.decision)
        if transition.reasons:
            await uow.invoices.replace_exceptions(transition.invoice.id, transition.reasons)
        await uow.outbox.add(transition.events)
    await uow.invoices.save(transitions[-1].invoice)
    await uow.invoices.add_history(changes)


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
