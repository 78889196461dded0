"""Audit entries of payment commands: each change, and each refusal, in its unit of work."""

from collections.abc import Sequence
from datetime import datetime

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.domain.principal import Principal
from apgraph.domain.problems import Problem
from apgraph.services.ports.unit_of_work import UnitOfWork
from apgraph.services.ports.workflow import Workflow


async def audited(
    uow: UnitOfWork,
    action: str,
    entity_ids: Sequence[str],
    detail: str | None,
    *,
    principal: Principal,
    workflow: Workflow,
    at: datetime,
    outcome: AuditOutcome = AuditOutcome.SUCCEEDED,
) -> None:
    await uow.audit.add(
        [
            AuditEvent(
                subject=principal.subject,
                action=action,
                outcome=outcome,
                entity_ids=tuple(dict.fromkeys(entity_ids)),
                client_id=principal.client_id,
                trace_id=workflow.trace_id,
                detail=detail,
            )
        ],
        at=at,
    )


async def refused(
    uow: UnitOfWork,
    problem: Problem,
    action: str,
    entity_id: str,
    *,
    principal: Principal,
    workflow: Workflow,
    at: datetime,
) -> None:
    """A refused command changes nothing but the audit trail: who tried what on which
    entity, and why not (an unknown and a foreign one are recorded alike, by the ID asked
    for). Commits the unit of work, which holds nothing else."""
    await audited(
        uow,
        action,
        (entity_id,),
        problem.code.value,
        principal=principal,
        workflow=workflow,
        at=at,
        outcome=AuditOutcome.DENIED,
    )
    await uow.commit()
