"""A span around each GraphQL operation, named as OpenTelemetry's GraphQL conventions say
(`mutation submitInvoice`), so a trace reads as the operation the caller sent.

Through the global API: with no recording provider installed this is the API's no-op tracer,
which keeps the request's span current and costs a function call.
"""

from collections.abc import Iterator

from opentelemetry import trace
from strawberry.extensions import SchemaExtension

_tracer = trace.get_tracer("apgraph.graphql")


class OperationSpan(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        with _tracer.start_as_current_span("graphql.operation") as span:
            yield
            if not span.is_recording():
                return
            context = self.execution_context
            name = context.operation_name
            try:
                kind = context.operation_type.value
            except RuntimeError:  # the document did not parse: no operation to name
                kind = "operation"
            span.update_name(f"{kind} {name}" if name else kind)
            span.set_attribute("graphql.operation.type", kind)
            if name:
                span.set_attribute("graphql.operation.name", name)
