"""auditLog: the audit trail, newest first."""

from typing import Annotated

import strawberry

from apgraph.schema.arguments import After, First
from apgraph.schema.audit import AuditEntryConnection, AuditEntryType, AuditFilterInput
from apgraph.schema.context import Info
from apgraph.schema.errors import BadUserInput
from apgraph.schema.pagination import decode_sequence_cursor
from apgraph.services.ports.reads import AuditFilter


async def audit_log(
    info: Info,
    filter: Annotated[
        AuditFilterInput | None, strawberry.argument(description="Which entries; omit for all.")
    ] = None,
    first: First = None,
    after: After = None,
) -> AuditEntryConnection | None:
    ctx = info.context
    given = filter or AuditFilterInput()
    if given.since and given.until and given.since > given.until:
        raise BadUserInput("`filter.until` is before `filter.since`", argument="filter")
    where = AuditFilter(
        subject=given.subject, action=given.action, since=given.since, until=given.until
    )
    size = ctx.page_limits.default_size if first is None else first
    if not 1 <= size <= ctx.page_limits.max_size:
        raise BadUserInput(
            f"`first` must be between 1 and {ctx.page_limits.max_size}", argument="first"
        )
    found = await ctx.store.audit.page(
        where, first=size, after=None if after is None else decode_sequence_cursor(after)
    )
    return AuditEntryConnection.build(
        found,
        to_node=AuditEntryType.from_domain,
        id_of=lambda entry: f"audit:{entry.sequence}",
        count_all=lambda: ctx.store.audit.count(where),
    )
