"""Audit entries of payment commands: each change in its unit of work, by the entity IDs it
touched, and each refusal (recording.py writes them), under the request's trace id."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from apgraph.domain.audit import AuditOutcome
from apgraph.domain.principal import Principal
from apgraph.domain.problems import Outcome, Problem
from apgraph.services import recording
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


async def refused(
    uow: UnitOfWork,
    problem: Problem,
    *,
    action: str,
    entity_id: str,
    principal: Principal,
    workflow: Workflow,
    at: datetime,
) -> Outcome[Any]:
    """`recording.refused` of a payment command: no invoice to name, the request's trace id."""
    return await recording.refused(
        uow,
        problem,
        action=action,
        entity_id=entity_id,
        principal=principal,
        trace_id=workflow.trace_id,
        at=at,
    )
