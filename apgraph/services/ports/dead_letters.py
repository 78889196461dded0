"""The one dead-letter store: postings, payment releases, webhook deliveries and relayed
events that failed past every retry, listed and replayed by operators.

Two faces of the same table. `DeadLetterWriter` joins a unit of work, so the failure (an
invoice moving to POSTING_FAILED) and its dead letter commit together or not at all, and a
success resolves the letter in the transaction that records it. `DeadLetterStore` runs each
call in a transaction of its own, for workers that have no unit of work (the relay, webhook
deliveries) and for the operators' list and replay.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from apgraph.domain.dead_letters import DeadLetter, DeadLetterKind
from apgraph.domain.principal import Principal

if TYPE_CHECKING:  # reads imports the unit of work, which imports this module
    from apgraph.services.ports.reads import Page, PageRequest


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    kind: DeadLetterKind | None = None
    resolved: bool | None = None  # None: both


class DeadLetterWriter(Protocol):
    async def record(
        self, kind: DeadLetterKind, subject: str, *, code: str, detail: str | None, at: datetime
    ) -> DeadLetter:
        """Files the failure: a new letter, or one more attempt on the subject's open one
        (its code and detail become the latest). Never two open letters for one subject."""
        ...

    async def resolve(
        self, kind: DeadLetterKind, subject: str, *, outcome: str, by: str, at: datetime
    ) -> DeadLetter | None:
        """Closes the subject's open letter with `outcome`; None when it has none (the
        usual case: most work never fails)."""
        ...


class DeadLetterStore(DeadLetterWriter, Protocol):
    async def get(self, number: int) -> DeadLetter | None: ...

    async def page(self, where: DeadLetterFilter, page: "PageRequest") -> "Page[DeadLetter]":
        """Oldest first; `page.after` is the public ID of the last letter already seen."""
        ...

    async def mark_replayed(
        self, number: int, *, outcome: str, by: str, at: datetime
    ) -> DeadLetter | None:
        """Resolves the letter unless it is resolved already: the first outcome stays. None
        when there is no such letter."""
        ...

    async def count(self, where: DeadLetterFilter) -> int: ...

    async def open_counts(self) -> Mapping[DeadLetterKind, int]:
        """Letters waiting for a replay, per kind (every kind present, zero included)."""
        ...


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What one replay did: carried the work through (`resolved`, with how it ended, e.g.
    "POSTED ERP-123"), or not (the stable code of why it still fails)."""

    resolved: bool
    outcome: str


# Replays one letter's work on behalf of an operator. It must be idempotent on the letter's
# subject (the posting key, the payment ID, the event or delivery id): a replay racing
# another, or repeated after a lost answer, must not do the work twice.
ReplayHandler = Callable[[DeadLetter, Principal], Awaitable[ReplayResult]]


class DeadLetterReplays(Protocol):
    """Which kinds this process can replay, and how (the registry of services/dead_letters.py,
    filled by the composition root)."""

    def handler(self, kind: DeadLetterKind) -> ReplayHandler | None: ...
