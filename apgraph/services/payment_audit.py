"""Audit entries of payment commands: each change in its unit of work, by the entity IDs it
touched (recording.py writes them; a refusal is `recording.refused`)."""

from collections.abc import Sequence
from datetime import datetime

from apgraph.domain.audit import AuditOutcome
from apgraph.domain.principal import Principal
from apgraph.services.ports.unit_of_work import UnitOfWork
from apgraph.services.ports.workflow import Workflow
from apgraph.services.recording import audit


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
    await audit(
        uow,
        principal=principal,
        action=action,
        invoice=None,
        entity_ids=entity_ids,
        outcome=outcome,
        detail=detail,
        trace_id=workflow.trace_id,
        at=at,
    )
