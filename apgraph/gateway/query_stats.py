"""Counts the SQL statements of each GraphQL operation: the N+1 guard's measuring stick.

Exposed in the response's `extensions.sqlStatements` only when the server is told to
(APGRAPH_EXPOSE_SQL_STATEMENTS), for tests and benchmarks.
"""

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from apgraph.store.database import StatementCount, counting_statements


class SqlStatementCount(SchemaExtension):
    _count: StatementCount | None = None

    def on_operation(self) -> Iterator[None]:
        with counting_statements() as count:
            self._count = count
            yield

    def get_results(self) -> dict[str, Any]:
        return {"sqlStatements": self._count.statements} if self._count else {}
