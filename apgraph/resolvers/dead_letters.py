"""deadLetters and replayDeadLetter: the one dead-letter store, for operators."""

from typing import Annotated

import strawberry

from apgraph.domain.ids import EntityKind
from apgraph.schema.arguments import After, First
from apgraph.schema.context import Context, Info
from apgraph.schema.dead_letters import (
    DeadLetterConnection,
    DeadLetterFilterInput,
    DeadLetterType,
    ReplayDeadLetterPayload,
)
from apgraph.schema.pagination import page_request
from apgraph.services import dead_letters
from apgraph.services.ports.dead_letters import DeadLetterFilter, DeadLetterStore


async def dead_letter_list(
    info: Info,
    filter: Annotated[
        DeadLetterFilterInput | None,
        strawberry.argument(description="Which letters; omit for every one."),
    ] = None,
    first: First = None,
    after: After = None,
) -> DeadLetterConnection | None:
    ctx = info.context
    given = filter or DeadLetterFilterInput()
    where = DeadLetterFilter(kind=given.kind, resolved=given.resolved)
    page = page_request(first, after, kind=EntityKind.DEAD_LETTER, limits=ctx.page_limits)
    store = _store(ctx)
    found = await store.page(where, page)

    return DeadLetterConnection.build(
        found,
        to_node=DeadLetterType.from_domain,
        id_of=lambda letter: letter.id,
        count_all=lambda: store.count(where),
    )


async def replay_dead_letter(
    info: Info,
    id: Annotated[strawberry.ID, strawberry.argument(description="The letter, DL-….")],
) -> ReplayDeadLetterPayload:
    ctx = info.context
    if ctx.replays is None:
        raise RuntimeError("this server's context carries no dead-letter replays")
    outcome = await dead_letters.replay_dead_letter(
        str(id), store=_store(ctx), replays=ctx.replays(), principal=ctx.principal, clock=ctx.clock
    )
    return ReplayDeadLetterPayload.from_outcome(outcome)


def _store(ctx: Context) -> DeadLetterStore:
    if ctx.dead_letters is None:
        raise RuntimeError("this server's context carries no dead-letter store")
    return ctx.dead_letters
