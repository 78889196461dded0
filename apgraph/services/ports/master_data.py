"""Master-data import and export (services/onboarding.py): the store and the sinks a bundle
is written to.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ParamSpec, Protocol, TypeVar

from apgraph.domain.bundle import KnownIds, MasterDataBundle


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """Rows per entity (the keys of `MasterDataBundle.counts()`) an upsert wrote or left."""

    created: Mapping[str, int]
    updated: Mapping[str, int]
    unchanged: Mapping[str, int]


class MasterDataStore(Protocol):
    async def stored_ids(self, bundle: MasterDataBundle) -> KnownIds: ...

    async def upsert(
        self,
        bundle: MasterDataBundle,
        *,
        actor: str,
        at: datetime,
        progress: Callable[[int], None] | None = None,
        dry_run: bool = False,
    ) -> UpsertCounts:
        """Everything in one transaction, by canonical ID: new rows inserted, changed ones
        updated, equal ones untouched. Every change is audited in the same transaction; a
        bundle equal to what is stored writes nothing at all. `progress` hears the number of
        rows compared so far. `dry_run`: the same work and counts, rolled back at the end."""
        ...


class MasterDataSink(Protocol):
    """Something outside the database that must know imported master data (the simulated
    systems' books, the ERP routes of a running server); told only after the commit."""

    async def load(self, bundle: MasterDataBundle) -> None: ...


P = ParamSpec("P")
T = TypeVar("T")


class Isolated(Protocol):
    """Runs a CPU-heavy pure function where it cannot stall the server's other requests (a
    worker process), blocking the calling thread until it returns; arguments and result
    travel pickled, so the function is module-level and its result small."""

    def __call__(self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T: ...


def run_here(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Isolated in name only: the calling thread runs it (tests, the command line)."""
    return function(*args, **kwargs)


@dataclass(frozen=True, slots=True)
class Onboarding:
    """What `importMasterData` hands the onboarding service: where bundles are stored, who
    must hear of them after the commit, how much one upload may cost (bytes uploaded and
    inflated, rows, problems listed in the report), and where reading it runs."""

    store: MasterDataStore
    sinks: Sequence[MasterDataSink]
    max_upload_bytes: int
    max_inflated_bytes: int = 200 * 1024 * 1024
    max_rows: int = 250_000
    listed_problems: int = 1_000
    isolated: Isolated = run_here
