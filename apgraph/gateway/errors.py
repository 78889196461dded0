"""The one boundary where unexpected errors are logged and masked.

Expected errors (ApiError) pass with their stable code; GraphQL syntax and validation errors
get GRAPHQL_VALIDATION_FAILED; anything else is a bug: logged once with its traceback, and
shown as INTERNAL_SERVER_ERROR without its message (dev mode adds the message as `detail`).
"""

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from apgraph.schema.errors import ApiError, ErrorCode

log = logging.getLogger("apgraph.errors")

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, ApiError)


def with_code(formatted: dict[str, Any]) -> dict[str, Any]:
    """A formatted error that carries no code is the request's fault: syntax or validation."""
    extensions = formatted.get("extensions") or {}
    if "code" in extensions:
        return formatted
    return {**formatted, "extensions": {**extensions, "code": VALIDATION_FAILED}}


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
