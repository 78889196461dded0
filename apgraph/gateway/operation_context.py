"""Each operation on a WebSocket runs as the caller the session knows now.

strawberry builds one context per connection; this extension gives every operation on a
socket its own, from the session's freshly re-checked principal: the same scope and row
rules as an HTTP request, and loaders and audit notes that no other operation shares.
"""

from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from apgraph.gateway.request_context import NOBODY, context_for
from apgraph.gateway.websocket_session import session_of
from apgraph.schema.context import Context


class ContextPerSocketOperation(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context) and context.request is not None:
            session = session_of(context.request)
            if session is not None:
                # an ended session refuses operations before they get here; should one slip
                # past, it runs as a caller who may see nothing
                principal = NOBODY if session.ended.is_set() else session.principal
                self.execution_context.context = context_for(
                    context.request.app.state.runtime,
                    principal,
                    schema=self.execution_context.schema,
                    request=context.request,
                    response=context.response,
                    trace_id=context.trace_id,
                )
        yield
