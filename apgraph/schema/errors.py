"""Top-level GraphQL errors with a stable `extensions.code`.

Business failures are values (userErrors in payloads); these are for malformed requests and
refused access. Anything else is a bug and the gateway masks it.
"""

from collections.abc import Callable
from enum import Enum
from typing import TypeVar

from graphql import GraphQLError

from apgraph.domain.ids import InvalidId

T = TypeVar("T")


class ErrorCode(Enum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    SLOW_SUBSCRIBER = "SLOW_SUBSCRIBER"  # an SSE subscription cut off behind its queue: resume
    FIELD_UNREADABLE = "FIELD_UNREADABLE"  # a stored classified value failed its integrity check
    NOT_IN_VIEW = "NOT_IN_VIEW"  # a value (an enum value) the product version does not show
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class ApiError(GraphQLError):
    """An expected error: its message is safe to show and its code is part of the contract."""

    code: ErrorCode = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        extensions: dict[str, object] = {"code": self.code.value}
        if argument is not None:
            extensions["argument"] = argument
        super().__init__(message, extensions=extensions)


class BadUserInput(ApiError):
    code = ErrorCode.BAD_USER_INPUT


class Forbidden(ApiError):
    code = ErrorCode.FORBIDDEN


class FieldUnreadable(ApiError):
    """This one value cannot be shown: stored altered, or sealed under a key we lack. The
    rest of the answer stands; the event is logged and audited."""

    code = ErrorCode.FIELD_UNREADABLE


class NotInView(ApiError):
    """The resolver answered a value the caller's product version hides (gateway.yaml
    `hidden: [Enum.VALUE]`): the field is null instead, and the value never leaves."""

    code = ErrorCode.NOT_IN_VIEW


def parse_id(parse: Callable[[str], T], raw: str, *, argument: str) -> T:
    """Parses a canonical ID argument, or answers BAD_USER_INPUT naming the argument."""
    try:
        return parse(raw)
    except InvalidId as error:
        raise BadUserInput(str(error), argument=argument) from None


def parse_optional_id(parse: Callable[[str], T], raw: str | None, *, argument: str) -> T | None:
    return None if raw is None else parse_id(parse, raw, argument=argument)
