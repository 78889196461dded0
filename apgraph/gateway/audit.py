"""Writes what one GraphQL operation must leave in the audit trail: refused fields, unmasked
reads of classified data, and classified values that failed their integrity check. If that
cannot be written, the caller gets no data.
"""

import logging
from collections.abc import AsyncIterator

from graphql import GraphQLError
from sqlalchemy.exc import SQLAlchemyError
from strawberry.extensions import SchemaExtension

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.schema.context import Context
from apgraph.schema.errors import ErrorCode

log = logging.getLogger("apgraph.audit")


def events_of(context: Context, operation: str) -> list[AuditEvent]:
    principal = context.principal
    events = []
    if context.denied:
        events.append(
            AuditEvent(
                subject=principal.subject,
                action="access.denied",
                outcome=AuditOutcome.DENIED,
                client_id=principal.client_id,
                trace_id=context.trace_id,
                detail=f"{operation}: {', '.join(sorted(set(context.denied)))}",
            )
        )
    if context.classified_reads:
        events.append(
            AuditEvent(
                subject=principal.subject,
                action="field.read",
                outcome=AuditOutcome.SUCCEEDED,
                entity_ids=tuple(sorted({o for _, o in context.classified_reads if o})),
                client_id=principal.client_id,
                trace_id=context.trace_id,
                detail=f"{operation}: {', '.join(sorted({f for f, _ in context.classified_reads}))}",  # noqa: E501
            )
        )
    if context.unreadable:
        owners = tuple(sorted({owner for _, owner in context.unreadable}))
        fields = ", ".join(sorted({name for name, _ in context.unreadable}))
        log.error(
            "%s (trace %s): stored values fail their integrity check: %s of %s",
            ErrorCode.FIELD_UNREADABLE.value,
            context.trace_id,
            fields,
            ", ".join(owners),
        )
        events.append(
            AuditEvent(
                subject=principal.subject,
                action="field.unreadable",
                outcome=AuditOutcome.FAILED,
                entity_ids=owners,
                client_id=principal.client_id,
                trace_id=context.trace_id,
                detail=f"{operation}: {fields}",
            )
        )
    return events


class AuditTrail(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if not isinstance(context, Context):
            return
        events = events_of(context, self.execution_context.operation_name or "anonymous")
        if not events:
            return
        runtime = context.request.app.state.runtime
        try:
            await runtime.audit.record(events, at=runtime.clock.now())
        except SQLAlchemyError:
            log.exception("audit trail not written; withholding the response")
            result = self.execution_context.result  # the object the executor returns
            if result is not None:
                result.data = None
                result.errors = [
                    GraphQLError(
                        "The audit trail could not be written, so nothing is returned.",
                        extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value},
                    )
                ]
