"""The one boundary where unexpected errors are logged and masked.

Expected errors (ApiError) pass with their stable code; GraphQL syntax and validation errors
get GRAPHQL_VALIDATION_FAILED; anything else is a bug: logged once with its traceback, and
shown as INTERNAL_SERVER_ERROR without its message (dev mode adds the message as `detail`).
"""

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from apgraph.schema.errors import ErrorCode

log = logging.getLogger("apgraph.errors")

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def is_unexpected(error: GraphQLError) -> bool:
    """A bug: an exception that is not a GraphQL error, raised while resolving a field.

    Errors the GraphQL library raises on purpose (bad variables, a scalar that will not
    parse) and our ApiErrors are the request's fault and keep their message.
    """
    original = error.original_error
    return (
        original is not None and not isinstance(original, GraphQLError) and error.path is not None
    )


def code_for(message: str) -> str:
    """The code of an error that carries none, which is the request's fault: a variable that
    does not fit its type is BAD_USER_INPUT (graphql-core words all of those "Variable '$…"),
    anything else (syntax, unknown field, limits) GRAPHQL_VALIDATION_FAILED."""
    return (
        ErrorCode.BAD_USER_INPUT.value if message.startswith("Variable '$") else VALIDATION_FAILED
    )


def with_code(formatted: dict[str, Any]) -> dict[str, Any]:
    """A formatted error (HTTP, SSE) given its code if it carries none (`code_for`)."""
    extensions = formatted.get("extensions") or {}
    if "code" in extensions:
        return formatted
    code = code_for(str(formatted.get("message", "")))
    return {**formatted, "extensions": {**extensions, "code": code}}


class CodedValidationErrors(SchemaExtension):
    """Gives every validation error its code on the error itself, so that every transport
    answers it with one: over graphql-transport-ws, strawberry sends validation errors as
    they are formatted, with no hook like the HTTP view's `process_result`. Listed first, so
    its end of validation runs after every other extension's."""

    def on_validate(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if "code" not in (error.extensions or {}):
                error.extensions = {**(error.extensions or {}), "code": code_for(error.message)}


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self, *, show_detail: bool) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Internal server error.")
        self.show_detail = show_detail

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        log.error(
            "unexpected error in %s",
            ".".join(str(p) for p in error.path or ()),
            exc_info=error.original_error,
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": ErrorCode.INTERNAL_SERVER_ERROR.value}
        if self.show_detail:
            masked.extensions["detail"] = str(error.original_error)
        return masked
