"""A query's reads share one database connection (store/reading.py `sharing_one_connection`).

The loaders of one query run their batches as tasks of their own, and each read took a pool
checkout and return of its own: for the supplier portal's page, about a twelfth of its CPU
(issue 19). Here the reads of a query's execution that run at once, the fast path's or the
generic executor's, take one pooled connection in turn, given back whenever none waits.
Mutations keep a connection per read beside their units of work, and so do subscriptions,
whose stream would otherwise take the pool's connections for as long as it runs.
"""

from collections.abc import AsyncIterator

from graphql import OperationType, get_operation_ast
from strawberry.extensions import SchemaExtension

from apgraph.schema.context import Context


class ReadConnectionPerQuery(SchemaExtension):
    """Listed before the fast path of reads, so that it spans the fast path's reads too."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        operation = (
            None if document is None else get_operation_ast(document, execution.operation_name)
        )
        if (
            isinstance(context, Context)
            and operation is not None
            and operation.operation is OperationType.QUERY
        ):
            async with context.store.sharing_one_connection():
                yield
        else:
            yield
