"""Demand control as a strawberry extension: after validation, before execution, the
operation is priced (cost.py); over the product's per-operation budget it is refused with
COST_LIMIT_EXCEEDED and the computed cost; else the cost is taken from the caller's cost
units per minute (429 RATE_LIMITED when spent). Either way no resolver runs. The cost is
reported in `extensions.cost` so clients can tune their operations."""

from collections.abc import AsyncIterator
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLSchema
from strawberry.extensions import SchemaExtension

from apgraph.gateway.products.cost import Prices
from apgraph.gateway.products.rate_limits import RATE_LIMITED, client_key

COST_LIMIT_EXCEEDED = "COST_LIMIT_EXCEEDED"
COST_UNITS = "cost"


class DemandControl(SchemaExtension):
    def __init__(
        self,
        *,
        product: str,
        prices: Prices,
        max_cost: int,
        cost_per_minute: int,
        graphql_schema: GraphQLSchema,
    ) -> None:
        self.product = product
        self.prices = prices
        self.max_cost = max_cost
        self.cost_per_minute = cost_per_minute
        self.graphql_schema = graphql_schema
        self.cost: int | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.graphql_document is None or context.result is not None:
            yield
            return
        self.cost = self.prices.of(
            self.graphql_schema,
            context.graphql_document,
            query=context.query,
            operation_name=context.operation_name,
            variables=context.variables,
        )
        if self.cost > self.max_cost:
            context.result = _refused(
                f"this operation costs {self.cost}, over {self.product}'s limit of "
                f"{self.max_cost} per operation: ask for smaller pages or fewer fields",
                code=COST_LIMIT_EXCEEDED,
                cost=self.cost,
                maxCost=self.max_cost,
            )
        else:
            await self._spend(context.context)
        yield

    async def _spend(self, request_context: Any) -> None:
        runtime = request_context.request.app.state.runtime
        verdict = await runtime.rate_limits.spend_cost(
            self.cost_per_minute,
            product=self.product,
            client=client_key(request_context.principal),
            amount=self.cost,
        )
        headers = verdict.headers(f"{COST_UNITS} units per minute")
        response = request_context.response
        if verdict.allowed:
            return
        if response is not None:  # HTTP; a WebSocket operation gets the error alone
            response.status_code = 429
            for name, value in headers.items():
                response.headers[name] = value
        self.execution_context.result = _refused(
            f"over {self.cost_per_minute} cost units per minute on {self.product}; this "
            f"operation costs {self.cost}; retry in {headers['Retry-After']} s",
            code=RATE_LIMITED,
            cost=self.cost,
            retryAfter=int(headers["Retry-After"]),
        )

    def get_results(self) -> dict[str, Any]:
        if self.cost is None:
            return {}
        return {"cost": {"estimated": self.cost, "maximum": self.max_cost}}


def _refused(message: str, **extensions: object) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(message, extensions=extensions)])
