"""Relay-style connections over keyset pages: opaque cursors, a maximum page size."""

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any, Generic, Self, TypeVar

import strawberry

from apgraph.domain.ids import EntityKind
from apgraph.schema.batched import EachParent, batched, stored, stored_field
from apgraph.schema.context import Context
from apgraph.schema.errors import BadUserInput
from apgraph.services.ports.reads import CURSOR_PREFIX, Page, PageLimits, PageRequest

NodeT = TypeVar("NodeT")
DomainT = TypeVar("DomainT")


def encode_cursor(entity_id: str) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{entity_id}".encode()).decode()


def decode_cursor(cursor: str, kind: EntityKind) -> str:
    """The ID inside a cursor this server issued for `kind`; anything else is BAD_USER_INPUT."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        text = ""
    entity_id = text.removeprefix(CURSOR_PREFIX)
    if not text.startswith(CURSOR_PREFIX) or not kind.matches(entity_id):
        raise BadUserInput("`after` is not a cursor from this list", argument="after")
    return entity_id


def decode_sequence_cursor(cursor: str) -> int:
    """The sequence inside an audit-log cursor (`audit:<n>`), or BAD_USER_INPUT."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        text = ""
    number = text.removeprefix(f"{CURSOR_PREFIX}audit:")
    if not text.startswith(f"{CURSOR_PREFIX}audit:") or not number.isdigit():
        raise BadUserInput("`after` is not a cursor from this list", argument="after")
    return int(number)


def page_request(
    first: int | None, after: str | None, *, kind: EntityKind, limits: PageLimits
) -> PageRequest:
    size = limits.default_size if first is None else first
    if size < 1 or size > limits.max_size:
        raise BadUserInput(
            f"`first` must be between 1 and {limits.max_size}, got {size}", argument="first"
        )
    return PageRequest(first=size, after=None if after is None else decode_cursor(after, kind))


@strawberry.type(description="Where this page sits in the list (Relay cursor connections).")
class PageInfo:
    has_next_page: bool = stored_field("More items follow: pass endCursor as `after`.")
    has_previous_page: bool = stored_field("Items come before this page.")
    start_cursor: str | None = stored_field("The first edge's cursor; null if empty.")
    end_cursor: str | None = stored_field("The last edge's cursor; null if empty.")


@strawberry.type(description="One item of a page and its cursor.")
class Edge(Generic[NodeT]):
    cursor: str = stored_field("Opaque; pass it as `after` to continue after this item.")
    node: NodeT = stored_field("The item.")


async def _count_all(connection: "Connection[Any]", _: Context) -> int:
    return await connection.count_all()


TOTAL_COUNT: EachParent["Connection[Any]", int] = EachParent(_count_all)


@strawberry.type(description="A page of a list, in ID order.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = stored_field("The items of this page with their cursors.")
    page_info: PageInfo = stored_field("How to ask for the next page.")
    count_all: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many items match the filter; costs one extra query.",
        metadata={**batched(TOTAL_COUNT), **stored()},
    )
    async def total_count(self) -> int:
        return await self.count_all()

    @classmethod
    def build(
        cls,
        page: Page[DomainT],
        *,
        to_node: Callable[[DomainT], NodeT],
        id_of: Callable[[DomainT], str],
        count_all: Callable[[], Awaitable[int]],
    ) -> Self:
        edges = [Edge(cursor=encode_cursor(id_of(item)), node=to_node(item)) for item in page.items]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                has_previous_page=page.has_previous_page,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            count_all=count_all,
        )
