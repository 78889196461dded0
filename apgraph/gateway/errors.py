"""The one boundary where unexpected errors are logged and masked.

Expected errors (ApiError) pass with their stable code; GraphQL syntax and validation errors
get GRAPHQL_VALIDATION_FAILED; anything else is a bug: logged once with its traceback, and
shown as INTERNAL_SERVER_ERROR without its message (dev mode adds the message as `detail`).
"""

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from apgraph.schema.errors import ApiError, ErrorCode

log = logging.getLogger("apgraph.errors")

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, ApiError)


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self, *, show_detail: bool) -> None:
        super().__init__(should_mask_error=lambda _: True, error_message="Internal server error.")
        self.show_detail = show_detail

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if not is_unexpected(error):
            if error.extensions and "code" in error.extensions:
                return error
            error.extensions = {**(error.extensions or {}), "code": VALIDATION_FAILED}
            return error
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
