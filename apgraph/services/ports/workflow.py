"""The invoice workflow's dependencies: what the composition root hands its services."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from apgraph.domain.approvals import ApprovalRules
from apgraph.domain.matching.rules import MatchRules
from apgraph.domain.review import ReviewRules
from apgraph.domain.scheduling import SchedulingRules
from apgraph.services.ports.connectors import (
    ContractPrices,
    ErpPayments,
    ErpPosting,
    GoodsReceipts,
)
from apgraph.services.ports.unit_of_work import UnitOfWork


class WorkflowConnectors(Protocol):
    """The systems the invoice workflow calls: the ERP router, materials and sourcing."""

    @property
    def erp(self) -> ErpPosting: ...
    @property
    def erp_payments(self) -> ErpPayments: ...
    @property
    def goods_receipts(self) -> GoodsReceipts: ...
    @property
    def contract_prices(self) -> ContractPrices: ...


@dataclass(frozen=True, slots=True)
class WorkflowPolicy:
    """gateway.yaml's `matching`, `approvals` and `payments` sections as the domain takes them."""

    match_rules: MatchRules
    duplicate_window_days: int
    approvals: ApprovalRules
    payments: SchedulingRules
    review: ReviewRules = field(default_factory=ReviewRules)  # numbers, dates, zero totals


@dataclass(frozen=True, slots=True)
class Workflow:
    """What a mutation resolver hands its service; one per request, built by the gateway.

    `unit_of_work` makes a fresh, single-use unit of work carrying the request's trace id.
    """

    unit_of_work: Callable[[], UnitOfWork]
    connectors: WorkflowConnectors
    policy: WorkflowPolicy
    trace_id: str | None
