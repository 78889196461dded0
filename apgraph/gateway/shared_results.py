"""A subscription event is executed once for every subscriber who would get the same result.

graphql-core runs a subscription's selection once per event per subscriber: it builds a
per-event executor (`Executor.build_per_event_executor`) and calls its `execute_operation`.
At a thousand subscribers that is a thousand identical executions of every event.

What one execution reads is, all of it: the event (the resolvers shape it purely from the
committed record), the operation (document and variables: the selection and the filter), the
schema (a product's view leaves fields out), and of the caller only what the access guards and
the feed look at — its scopes (scope checks, `may_read`), its roles (masking of classified
fields) and its row scope (which events reach it). Subscribers equal in all of these get equal
results, so `SharedEventResults` (the graphql-core executor class strawberry takes as
`execution_context_class`) keys each event's execution on exactly these: the first subscriber
of a group executes it, the others get that result. What execution leaves in a context for the
audit trail (refused fields, classified reads) is copied into each subscriber's context, so its
audit trail reads as if it had executed. Authorization stays per event: the hub admits each
event per group of equal row scope and filter, and a session that has ended sends nothing.

Everything else (queries, mutations, events that are not live changes) runs as graphql-core
runs it. A subscriber that misses the cache (it fell behind, or its group is new) executes the
event itself through the same path, with the same result.
"""

from collections.abc import Awaitable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, cast

from graphql import ExecutionResult, GraphQLSchema, OperationDefinitionNode, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from apgraph.schema.context import Context
from apgraph.schema.live import (
    ExceptionQueueChangeType,
    InvoiceStatusChangeType,
    PaymentStatusChangeType,
)

LIVE_CHANGES = (InvoiceStatusChangeType, PaymentStatusChangeType, ExceptionQueueChangeType)
RENDERINGS_KEPT = 4096  # (group, event) results: enough for the events in flight to every group


def frozen(value: Any) -> Hashable:
    """Coerced variable values as a hashable key; the type is part of it (1 is not True)."""
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((str(k), frozen(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(frozen(item) for item in value))
    if value is None or isinstance(value, str | int | float | bool | Enum):
        return (type(value).__name__, value)
    return (type(value).__name__, repr(value))


@dataclass(frozen=True, slots=True)
class Notes:
    """What executing an event appended to a context for the audit trail."""

    denied: tuple[str, ...]
    classified_reads: tuple[tuple[str, str | None], ...]
    unreadable: tuple[tuple[str, str], ...]

    @classmethod
    def since(cls, context: Context, marks: tuple[int, int, int]) -> "Notes":
        return cls(
            tuple(context.denied[marks[0] :]),
            tuple(context.classified_reads[marks[1] :]),
            tuple(context.unreadable[marks[2] :]),
        )

    def copy_into(self, context: Context) -> None:
        context.denied.extend(self.denied)
        context.classified_reads.extend(self.classified_reads)
        context.unreadable.extend(self.unreadable)


def marks_of(context: Context) -> tuple[int, int, int]:
    return len(context.denied), len(context.classified_reads), len(context.unreadable)


@dataclass(frozen=True, slots=True)
class Rendering:
    """One event's result for one group. Holding the schema and the operation keeps their
    ids (part of the key) from being reused by other objects while the entry lives."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    result: ExecutionResult
    notes: Notes


class Renderings:
    """The results of the latest events per group, oldest dropped first. One per schema."""

    def __init__(self, kept: int = RENDERINGS_KEPT) -> None:
        if kept < 1:
            raise ValueError(f"kept must be positive, got {kept}")
        self.kept = kept
        self._entries: dict[Hashable, Rendering] = {}
        self.executed = 0  # events executed (cache misses), for the tests and the bench
        self.shared = 0  # events answered from another subscriber's execution

    def get(
        self, key: Hashable, schema: GraphQLSchema, operation: OperationDefinitionNode
    ) -> Rendering | None:
        entry = self._entries.get(key)
        if entry is None or entry.schema is not schema or entry.operation is not operation:
            return None
        return entry

    def put(self, key: Hashable, entry: Rendering) -> None:
        self._entries[key] = entry
        while len(self._entries) > self.kept:
            del self._entries[next(iter(self._entries))]


def _copy(result: ExecutionResult) -> ExecutionResult:
    """Each subscriber its own result object (extensions may replace its errors); the data
    is shared and never changed after execution."""
    return ExecutionResult(
        result.data, list(result.errors) if result.errors else None, result.extensions
    )


def sharing(renderings: Renderings) -> type[StrawberryGraphQLCoreExecutionContext]:
    """The executor class for one schema, sharing results through `renderings`."""

    class SharedEventResults(StrawberryGraphQLCoreExecutionContext):
        shared_renderings: ClassVar[Renderings] = renderings
        group: Hashable | None = None  # set on a subscription's executor, copied per event

        def build_per_event_executor(self, payload: Any) -> Any:
            if self.group is None:
                self.group = self._group()
            return super().build_per_event_executor(payload)

        def _group(self) -> Hashable:
            context = self.context_value
            if not isinstance(context, Context):
                return ()
            principal = context.principal
            return (
                id(self.schema),
                id(self.operation),
                frozen(self.variable_values.coerced),
                principal.scopes,
                principal.roles,
                principal.row_scope,
            )

        def execute_operation(self, serially: bool | None = None) -> Any:
            event = self.root_value
            context = self.context_value
            if (
                not self.group
                or not isinstance(event, LIVE_CHANGES)
                or not isinstance(context, Context)
                or self.operation.operation is not OperationType.SUBSCRIPTION
            ):
                return super().execute_operation(serially)
            key = (self.group, type(event), event.cursor)
            found = renderings.get(key, self.schema, self.operation)
            if found is not None:
                renderings.shared += 1
                found.notes.copy_into(context)
                return _copy(found.result)
            marks = marks_of(context)
            result = super().execute_operation(serially)
            if self.is_awaitable(result):
                return self._kept_later(key, result, context, marks)
            return self._kept(key, cast(ExecutionResult, result), context, marks)

        async def _kept_later(
            self,
            key: Hashable,
            result: Awaitable[ExecutionResult],
            context: Context,
            marks: tuple[int, int, int],
        ) -> ExecutionResult:
            return self._kept(key, await result, context, marks)

        def _kept(
            self,
            key: Hashable,
            result: ExecutionResult,
            context: Context,
            marks: tuple[int, int, int],
        ) -> ExecutionResult:
            renderings.executed += 1
            renderings.put(
                key,
                Rendering(self.schema, self.operation, _copy(result), Notes.since(context, marks)),
            )
            return result

    return SharedEventResults


__all__: Sequence[str] = ["Renderings", "sharing"]
