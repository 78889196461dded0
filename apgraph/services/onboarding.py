"""Onboarding an acquired hospital: its master-data bundle is checked as a whole, then stored in
one transaction, or not at all.

The checks of the file itself (schema, ID forms, money, dates, duplicates) are the reader's
(services/bundles); this adds the references to what is already stored, which only the
database can answer, for every row that parsed even when others did not, so one report lists
every problem. A bundle with any problem writes nothing; a dry run never writes. The
systems outside the database (simulated books, a running server's ERP routes) hear of an
import only after it committed, so they never know a fact the database does not.
"""

import asyncio
from collections.abc import Callable, Sequence

from apgraph.domain.bundle import BundleProblem, ImportReport, MasterDataBundle, ProblemTally
from apgraph.services.bundles import KnownIds, ReadLimits, check_references
from apgraph.services.bundles.uploads import TalliedRead, read_upload_tallied
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.master_data import MasterDataSink, MasterDataStore, Onboarding

Progress = Callable[[int], None]  # rows compared so far, of `sum(bundle.counts().values())`
Locate = Callable[[KnownIds], Sequence[BundleProblem]]  # blocking: it runs in a thread


async def import_bundle(
    bundle: MasterDataBundle | None,
    *,
    problems: Sequence[BundleProblem] = (),
    partial: MasterDataBundle | None = None,
    store: MasterDataStore,
    sinks: Sequence[MasterDataSink] = (),
    actor: str,
    clock: Clock,
    dry_run: bool = False,
    progress: Progress | None = None,
    locate: Locate | None = None,
) -> ImportReport:
    """`bundle` and `problems` are what reading the file gave (None: any problem), and
    `partial` the bundle of the rows that parsed (`ReadResult.partial`).

    A parsed bundle no longer knows its files and rows, so a reference problem found here is
    placed by entity and ID; `locate`, given, reads the source again with the stored IDs
    and answers every problem placed by file and row (or JSON pointer) instead. With `bundle`
    None, `partial` and `locate` both given, the references of the rows that parsed are
    checked against the bundle and the store too, so the report lists every problem at once.

    Re-importing a bundle already stored changes nothing and audits nothing (every row
    `unchanged`); a changed row is updated and audited by the store, field names only.
    """
    if bundle is None:
        if partial is None or locate is None or partial == MasterDataBundle():
            return _refused({}, problems, dry_run=dry_run)
        known = await store.stored_ids(partial)
        return _refused({}, await asyncio.to_thread(locate, known), dry_run=dry_run)
    counts = bundle.counts()
    known = await store.stored_ids(bundle)
    found = [*problems, *check_references(bundle, known)]
    if found and locate is not None:
        found = list(await asyncio.to_thread(locate, known))
    if found:
        return _refused(counts, found, dry_run=dry_run)
    written = await store.upsert(
        bundle, actor=actor, at=clock.now(), progress=progress, dry_run=dry_run
    )
    if not dry_run:
        for sink in sinks:
            await sink.load(bundle)
    return ImportReport(
        problems=(),
        counts=counts,
        created=written.created,
        updated=written.updated,
        unchanged=written.unchanged,
        dry_run=dry_run,
    )


async def import_upload(
    name: str,
    data: bytes,
    *,
    onboarding: Onboarding,
    actor: str,
    clock: Clock,
    dry_run: bool = False,
) -> ImportReport:
    """A bundle uploaded as one file (`importMasterData`): `.json`, or a `.zip` of the CSV
    files. `data` may run one byte past the limit, which is how an oversized upload shows.

    Reading costs what the upload holds, up to `onboarding`'s limits of inflated bytes and
    rows, checked as it reads; it runs in `onboarding.isolated` (a worker process in the
    server), so even the worst upload never stalls other requests. The report lists the
    first `listed_problems` problems and counts them all by code."""
    limits = ReadLimits(
        max_bytes=onboarding.max_upload_bytes,
        max_inflated_bytes=onboarding.max_inflated_bytes,
        max_rows=onboarding.max_rows,
    )

    async def read(known: KnownIds | None) -> TalliedRead:
        return await asyncio.to_thread(
            onboarding.isolated,
            read_upload_tallied,
            name,
            data,
            limits=limits,
            known=known,
            listed_at_most=onboarding.listed_problems,
        )

    first = await read(None)
    if first.bundle is not None:
        known = await onboarding.store.stored_ids(first.bundle)
        if not check_references(first.bundle, known):
            return await import_bundle(
                first.bundle,
                store=onboarding.store,
                sinks=onboarding.sinks,
                actor=actor,
                clock=clock,
                dry_run=dry_run,
            )
        counts = first.bundle.counts()
    elif first.partial == MasterDataBundle():
        return _tallied({}, first.problems, dry_run=dry_run)
    else:
        known = await onboarding.store.stored_ids(first.partial)
        counts = {}
    # a problem: read again knowing what is stored, so each problem is placed by file and row
    located = await read(known)
    return _tallied(counts, located.problems, dry_run=dry_run)


def _tallied(counts: dict[str, int], problems: ProblemTally, *, dry_run: bool) -> ImportReport:
    return ImportReport(
        problems=problems.listed,
        counts=counts,
        created={},
        updated={},
        unchanged={},
        dry_run=dry_run,
        problem_counts=problems.by_code,
    )


def _refused(
    counts: dict[str, int], problems: Sequence[BundleProblem], *, dry_run: bool
) -> ImportReport:
    return ImportReport(
        problems=tuple(problems),
        counts=counts,
        created={},
        updated={},
        unchanged={},
        dry_run=dry_run,
    )
