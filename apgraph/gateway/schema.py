"""The one strawberry schema, with the limits and error masking gateway.yaml asks for."""

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSchema
from graphql import build_schema as parse_sdl
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types.execution import ExecutionContext

from apgraph.gateway.access import FieldGuard, FieldKey, GuardedSchema, plan_guards
from apgraph.gateway.audit import AuditTrail
from apgraph.gateway.errors import CodedValidationErrors, MaskUnexpectedErrors
from apgraph.gateway.fast_reads import FastReads, FastReadsExtension
from apgraph.gateway.metrics import RequestMetrics
from apgraph.gateway.operation_context import ContextPerSocketOperation
from apgraph.gateway.operation_span import OperationSpan
from apgraph.gateway.query_stats import SqlStatementCount
from apgraph.gateway.read_connection import ReadConnectionPerQuery
from apgraph.gateway.recent import Recent
from apgraph.gateway.shared_results import Renderings, sharing
from apgraph.gateway.suggestions import HideSuggestions
from apgraph.gateway.validations import Validations, ValidationsByText
from apgraph.policies.gateway import GatewayConfig
from apgraph.resolvers.root import Mutation, Query, Subscription
from apgraph.schema.facilities import CostCenterType, FacilityType
from apgraph.schema.invoices import InvoiceType
from apgraph.schema.payments import PaymentType
from apgraph.schema.purchasing import PurchaseOrderType
from apgraph.schema.scalars import SCALAR_MAP
from apgraph.schema.suppliers import SupplierType

CACHED_DOCUMENTS = 256  # distinct query texts whose parse and validation are kept

NODE_TYPES = [
    FacilityType,
    CostCenterType,
    SupplierType,
    PurchaseOrderType,
    InvoiceType,
    PaymentType,
]


def build_schema(
    config: GatewayConfig,
    *,
    show_error_detail: bool,
    expose_sql_statements: bool,
    share_event_results: bool = True,
    fast_reads: bool = True,
) -> strawberry.Schema:
    """The full internal schema (operators' /graphql) with gateway.yaml's limits, error
    masking, audit trail and access rules. `share_event_results=False` executes every
    subscription event per subscriber (graphql-core's generic path: the tests' reference)."""
    limits = config.limits
    return QuietSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        extensions=schema_extensions(
            max_depth=limits.max_depth,
            max_aliases=limits.max_aliases,
            max_tokens=limits.max_tokens,
            show_error_detail=show_error_detail,
            expose_sql_statements=expose_sql_statements,
            fast_reads=fast_reads,
        ),
        config=StrawberryConfig(
            scalar_map=SCALAR_MAP, disable_field_suggestions=not show_error_detail
        ),
        guards=access_guards(config),
        share_event_results=share_event_results,
    )


def access_guards(config: GatewayConfig) -> dict[FieldKey, FieldGuard]:
    """The access checks gateway.yaml asks for, planned on the full schema's SDL."""
    return plan_guards(unguarded_schema(), config.access)


@cache
def unguarded_schema() -> GraphQLSchema:
    """The full schema's shape without checks, to plan them on (built once per process)."""
    plain = strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
    return parse_sdl(str(plain))


def schema_extensions(
    *,
    max_depth: int,
    max_aliases: int,
    max_tokens: int,
    show_error_detail: bool,
    expose_sql_statements: bool,
    before_execution: Sequence[Callable[[], SchemaExtension]] = (),
    fast_reads: bool = True,
) -> list[Callable[[], SchemaExtension]]:
    """The extensions every schema runs; `before_execution` (a product's cost and allow-list
    checks) run after the limits and before the audit trail and SQL counting; the fast path
    of reads (`fast_reads`) comes last, so that every check before execution has run."""
    # The limit rules are built once, so the validation cache recognises them on every
    # request; the extensions are factories, so each operation gets fresh extension state.
    limit_rules = [
        *QueryDepthLimiter(max_depth=max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules,
    ]
    validations: Validations = Recent(CACHED_DOCUMENTS)  # this schema's, for every operation
    extensions: list[Callable[[], SchemaExtension]] = [
        CodedValidationErrors,
        ContextPerSocketOperation,
        OperationSpan,
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(limit_rules),
        lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
        lambda: ValidationsByText(known=validations),
        lambda: MaskUnexpectedErrors(show_detail=show_error_detail),
        *([] if show_error_detail else [HideSuggestions]),
        *before_execution,
        AuditTrail,
        RequestMetrics,
    ]
    if expose_sql_statements:
        extensions.append(SqlStatementCount)
    extensions.append(ReadConnectionPerQuery)  # spans the fast path's reads too
    if fast_reads:
        plans = FastReads()  # one plan cache per schema, shared by its operations
        extensions.append(lambda: FastReadsExtension(fast=plans))
    return extensions


class QuietSchema(GuardedSchema):
    """Leaves logging to MaskUnexpectedErrors: a client's typo is not a server error.

    Executes a subscription event once per group of subscribers who get the same result
    (`shared_results`) unless `share_event_results` is False."""

    def __init__(self, *, share_event_results: bool = True, **kwargs: Any) -> None:
        if share_event_results:
            kwargs.setdefault("execution_context_class", sharing(Renderings()))
        super().__init__(**kwargs)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        return None
