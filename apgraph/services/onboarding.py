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

from apgraph.domain.bundle import BundleProblem, ImportReport, MasterDataBundle
from apgraph.services.bundles import KnownIds, check_references, read_upload_result
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
    if dry_run:
        return ImportReport(
            problems=(), counts=counts, created={}, updated={}, unchanged={}, dry_run=True
        )
    written = await store.upsert(bundle, actor=actor, at=clock.now(), progress=progress)
    for sink in sinks:
        await sink.load(bundle)
    return ImportReport(
        problems=(),
        counts=counts,
        created=written.created,
        updated=written.updated,
        unchanged=written.unchanged,
        dry_run=False,
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
    files. `data` may run one byte past the limit, which is how an oversized upload shows;
    parsing runs in a thread so a large bundle never stalls the server's other requests."""
    limit = onboarding.max_upload_bytes
    read = await asyncio.to_thread(read_upload_result, name, data, max_bytes=limit)
    return await import_bundle(
        read.bundle,
        problems=read.problems,
        partial=read.partial,
        store=onboarding.store,
        sinks=onboarding.sinks,
        actor=actor,
        clock=clock,
        dry_run=dry_run,
        locate=lambda known: read_upload_result(name, data, max_bytes=limit, known=known).problems,
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
