"""The one strawberry schema, with the limits and error masking gateway.yaml asks for."""

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from apgraph.gateway.errors import MaskUnexpectedErrors
from apgraph.gateway.query_stats import SqlStatementCount
from apgraph.policies.gateway import Limits
from apgraph.resolvers.root import Query
from apgraph.schema.facilities import CostCenterType, FacilityType
from apgraph.schema.invoices import InvoiceType
from apgraph.schema.payments import PaymentType
from apgraph.schema.purchasing import PurchaseOrderType
from apgraph.schema.suppliers import SupplierType

NODE_TYPES = [
    FacilityType,
    CostCenterType,
    SupplierType,
    PurchaseOrderType,
    InvoiceType,
    PaymentType,
]


def build_schema(
    limits: Limits, *, show_error_detail: bool, expose_sql_statements: bool
) -> strawberry.Schema:
    extensions: list[SchemaExtension | type[SchemaExtension]] = [
        MaxTokensLimiter(max_token_count=limits.max_tokens),
        QueryDepthLimiter(max_depth=limits.max_depth),
        MaxAliasesLimiter(max_alias_count=limits.max_aliases),
        ParserCache(maxsize=256),
        ValidationCache(maxsize=256),
        MaskUnexpectedErrors(show_detail=show_error_detail),
    ]
    if expose_sql_statements:
        extensions.append(SqlStatementCount)
    return strawberry.Schema(query=Query, types=NODE_TYPES, extensions=extensions)
