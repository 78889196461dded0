"""`apgraph deadletters list|replay`: the one dead-letter store (failed postings, payment
releases, webhook deliveries, relayed events), and carrying its letters through again.

In embedded mode the ERP simulators live inside each process, so a replay from the command
line posts to this command's own simulators; there, use the `replayDeadLetter` mutation
against the running server instead. With real ERPs (connectors.mode: remote) both reach the
same books.
"""

from datetime import timedelta
from pathlib import Path

import typer

from apgraph.cli.options import DatabaseUrl, DataDir, GatewayConfigPath, fail, settings_from
from apgraph.cli.progress import progress_bar
from apgraph.cli.runtime import on_runtime
from apgraph.domain.dead_letters import DeadLetter, DeadLetterKind
from apgraph.domain.principal import RowScope
from apgraph.gateway.request_context import dead_letter_replays
from apgraph.gateway.runtime import Runtime
from apgraph.services.dead_letters import (
    REPLAYER,
    ReplayRegistry,
    ReplayReport,
    open_letters,
    replay_dead_letter,
    replay_dead_letters,
)
from apgraph.services.posting_recovery import interrupted_postings
from apgraph.settings import Settings
from apgraph.store.connector_state import SqlPostingLedger
from apgraph.store.dead_letters import SqlDeadLetters

deadletters_app = typer.Typer(
    help="Postings, payment releases, webhook deliveries and relayed events that failed past "
    "every retry, and postings a crash interrupted."
)

Limit = typer.Option(100, min=1, max=10_000, help="How many, oldest first.")
Kind = typer.Option(
    None,
    "--kind",
    case_sensitive=False,
    help="Only this kind: POSTING, PAYMENT_RELEASE, WEBHOOK_DELIVERY or RELAY.",
)


def register(app: typer.Typer) -> None:
    app.add_typer(deadletters_app, name="deadletters")


def _settings(database_url: str | None, data_dir: Path | None, config: Path | None) -> Settings:
    return settings_from(database_url=database_url, data_dir=data_dir, gateway_config=config)


def _line(letter: DeadLetter) -> str:
    return (
        f"{letter.id}  {letter.kind.value}  {letter.subject}  {letter.code}  "
        f"attempts {letter.attempts}  since {letter.first_failed_at.isoformat()}"
    )


@deadletters_app.command("list")
def list_dead_letters(
    kind: DeadLetterKind | None = Kind,
    limit: int = Limit,
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Every letter waiting for a replay, oldest first; then (unless --kind names another)
    every posting a crash interrupted (MATCHED past the grace period, outcome unknown), which
    the server resolves on its own."""
    settings = _settings(database_url, data_dir, gateway_config)

    async def listed(runtime: Runtime) -> list[str]:
        found = await open_letters(store=SqlDeadLetters(runtime.engine), kind=kind, limit=limit)
        lines = [_line(letter) for letter in found]
        if kind in (None, DeadLetterKind.POSTING):
            interrupted, _ = await interrupted_postings(
                reads=runtime.reads(RowScope()),
                ledger=SqlPostingLedger(runtime.engine),
                now=runtime.clock.now(),
                grace=timedelta(seconds=settings.posting_recovery_grace_seconds),
                limit=limit,
            )
            lines += [
                f"{i.id}  {i.facility_id}  {i.supplier_id}  {i.total} {i.currency}  "
                f"{i.status.value}: posting interrupted, outcome unknown (resolved by the "
                "server)"
                for i in interrupted
            ]
        return lines

    lines = on_runtime(settings, listed)
    typer.echo("\n".join(lines) if lines else "apgraph: no dead letters")


@deadletters_app.command("replay")
def replay(
    kind: DeadLetterKind | None = Kind,
    letter_id: str | None = typer.Option(
        None, "--id", help="Only this letter, e.g. DL-000042 (a resolved one answers its outcome)."
    ),
    limit: int = Limit,
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Carry the waiting letters through again, oldest first, each under its one key (never
    twice). Exit 1 if any still fails."""
    settings = _settings(database_url, data_dir, gateway_config)

    async def replayed(runtime: Runtime) -> ReplayReport:
        # routes stored with each facility (the shipped gateway.yaml overrides none): read
        # them as `serve` does, or every replay answers ERP_ROUTE_UNKNOWN
        await runtime.connectors.ready_to_post(runtime.engine, runtime.keyring)
        store = SqlDeadLetters(runtime.engine)
        replays = dead_letter_replays(runtime, None)
        if letter_id is not None:
            return await _replay_one(letter_id, store, replays, runtime)
        total = len(await open_letters(store=store, kind=kind, limit=limit))
        with progress_bar(total, "letters") as advance:
            return await replay_dead_letters(
                store=store,
                replays=replays,
                principal=REPLAYER,
                clock=runtime.clock,
                kind=kind,
                limit=limit,
                on_each=None if advance is None else lambda _letter: advance(1),
            )

    report = on_runtime(settings, replayed)
    for letter in report.resolved:
        typer.echo(f"{letter.id}  {letter.kind.value}  {letter.subject}  {letter.outcome}")
    for letter, why in report.still_failing:
        typer.echo(f"{letter.id}  {letter.kind.value}  {letter.subject}  still failing: {why}")
    if report.still_failing:
        fail(f"{len(report.still_failing)} dead letter(s) still failing; try again later")
    typer.echo(f"apgraph: replayed {len(report.resolved)} dead letter(s)")


async def _replay_one(
    letter_id: str, store: SqlDeadLetters, replays: ReplayRegistry, runtime: Runtime
) -> ReplayReport:
    outcome = await replay_dead_letter(
        letter_id, store=store, replays=replays, principal=REPLAYER, clock=runtime.clock
    )
    report = ReplayReport()
    letter = outcome.value
    if letter is None:
        fail(outcome.problems[0].message)
    if letter.resolved:
        report.resolved.append(letter)
    else:
        report.still_failing.append((letter, outcome.problems[0].message))
    return report
