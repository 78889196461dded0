"""The allow-list enforced on every operation, whatever the transport: a WebSocket
`subscribe` carries its text directly, so the HTTP wire layer (persisted.py) alone would
not hold. Refuses, before execution, any operation whose exact text is not on the list."""

from collections.abc import Iterator

from graphql import ExecutionResult, GraphQLError
from strawberry.extensions import SchemaExtension

from apgraph.gateway.products.operation_lists import OperationList
from apgraph.gateway.products.persisted import NOT_ALLOWED


class AllowListOnly(SchemaExtension):
    def __init__(self, *, allowed: OperationList) -> None:
        self.allowed = allowed

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.result is None and not self.allowed.allows(context.query or ""):
            error = GraphQLError(
                "this product runs only registered operations: send a documentId from its list",
                extensions={"code": NOT_ALLOWED},
            )
            context.result = ExecutionResult(data=None, errors=[error])
        yield
