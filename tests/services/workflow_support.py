"""Calling the workflow's services directly, on the API's database and simulators."""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from apgraph.domain.principal import Principal, Role
from apgraph.services.ports.workflow import Workflow, WorkflowPolicy
from apgraph.store.read_store import ReadStore
from apgraph.store.unit_of_work import SqlUnitOfWork

ON_POSTGRESQL = pytest.mark.parametrize("workflow_database", ["postgresql"], indirect=True)
"""For a test of what only PostgreSQL does: `workflow_database` overridden to its PostgreSQL
value, so no SQLite variant is collected (a skipped variant would read as a gap), and the
session's one PostgreSQL workflow database is the one it runs on (pytest groups and caches a
session fixture by its parameter's value)."""


class FixedClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


CLOCK = FixedClock()


def workflow(runtime: Any) -> Workflow:
    config = runtime.config
    return Workflow(
        unit_of_work=lambda: SqlUnitOfWork(
            runtime.engine, trace_id="trace-test", keyring=runtime.keyring
        ),
        connectors=runtime.connectors,
        policy=WorkflowPolicy(
            match_rules=config.matching.rules(),
            duplicate_window_days=config.matching.duplicate_window_days,
            approvals=config.approvals.rules(),
            payments=config.payments.rules(),
            review=config.matching.review(),
        ),
        trace_id="trace-test",
    )


def reads(runtime: Any, principal: Principal) -> ReadStore:
    return runtime.reads(principal.row_scope)


def person(
    subject: str,
    role: Role,
    *,
    supplier_id: str | None = None,
    facility_ids: Sequence[str] | None = None,
) -> Principal:
    return Principal(
        subject=subject,
        roles=frozenset({role}),
        scopes=frozenset({"invoices:read", "invoices:submit", "invoices:approve"}),
        supplier_id=supplier_id,  # type: ignore[arg-type]
        facility_ids=frozenset(facility_ids) if facility_ids is not None else None,  # type: ignore[arg-type]
    )
