"""`apgraph payments schedule|run|confirm|replay`: the payment side, for operators.

`run` proposes a payment run as the named operator (maker); approving and releasing it is
someone else's, through the API (maker–checker). In embedded mode the ERP simulators live
inside each process: `confirm` and `replay` then reach this command's own simulators, so use
the `confirmPayment` and `retryPaymentRelease` mutations against the running server instead.
"""

from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import typer

from apgraph.cli.options import DatabaseUrl, DataDir, GatewayConfigPath, fail, settings_from
from apgraph.cli.runtime import on_runtime
from apgraph.domain import ids
from apgraph.domain.payments import Payment
from apgraph.domain.principal import ALL_SCOPES, Principal, Role, RowScope
from apgraph.domain.problems import Outcome
from apgraph.gateway.request_context import workflow_for
from apgraph.gateway.runtime import Runtime
from apgraph.services import payment_release, payment_runs, scheduling

payments_app = typer.Typer(help="Scheduling, payment runs, confirmations and replays.")
T = TypeVar("T")

Limit = typer.Option(10_000, min=1, max=1_000_000, help="How many, oldest first.")


def register(app: typer.Typer) -> None:
    app.add_typer(payments_app, name="payments")


def _run(
    database_url: str | None,
    data_dir: Path | None,
    config: Path | None,
    work: Callable[[Runtime], Awaitable[T]],
) -> T:
    settings = settings_from(database_url=database_url, data_dir=data_dir, gateway_config=config)

    async def ready(runtime: Runtime) -> T:
        await runtime.connectors.ready_to_post(runtime.engine, runtime.keyring)
        return await work(runtime)

    return on_runtime(settings, ready)


@payments_app.command("schedule")
def schedule(
    limit: int = Limit,
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Schedule POSTED invoices for payment (by their terms), oldest first."""

    async def work(runtime: Runtime) -> int:
        return await scheduling.schedule_posted(
            workflow=workflow_for(runtime, None), clock=runtime.clock, limit=limit
        )

    done = _run(database_url, data_dir, gateway_config, work)
    typer.echo(f"apgraph: scheduled {done} invoice(s)")


@payments_app.command("run")
def propose_run(
    facility: str = typer.Option(..., help="The facility, e.g. FAC-0001."),
    pay_date: str = typer.Option(
        ..., help="Pays what is due by then (YYYY-MM-DD), today or later."
    ),
    proposer: str = typer.Option(..., help="Who proposes it (maker): never its approver."),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Propose a payment run; exit 1 with the user error's code when refused."""
    try:
        facility_id = ids.facility(facility)
        day = date.fromisoformat(pay_date)
    except ValueError as error:
        fail(str(error))
    operator = Principal(
        subject=proposer, roles=frozenset({Role.FINANCE_ADMIN}), scopes=frozenset(ALL_SCOPES)
    )

    async def work(runtime: Runtime) -> Outcome[payment_runs.RunProposal]:
        return await payment_runs.schedule_payment_run(
            payment_runs.SchedulePaymentRun(facility_id=facility_id, pay_date=day),
            principal=operator,
            workflow=workflow_for(runtime, None),
            reads=runtime.reads(RowScope()),
            clock=runtime.clock,
        )

    outcome = _run(database_url, data_dir, gateway_config, work)
    if outcome.value is None:
        fail(", ".join(f"{p.code.value}: {p.message}" for p in outcome.problems))
        return
    run = outcome.value.run
    for held in outcome.value.held:
        typer.echo(f"{held.id}  held: {held.hold_reason}")
    typer.echo(
        f"{run.id}  {run.facility_id}  {run.pay_date}  {run.payment_count} payment(s)  "
        f"{run.total} {run.currency}  needs {run.approvals_needed} approver(s)"
    )


@payments_app.command("confirm")
def confirm(
    limit: int = Limit,
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Ask the ERPs about every released payment and record what they say."""

    async def work(runtime: Runtime) -> payment_release.ConfirmationReport:
        return await payment_release.confirm_released(
            workflow=workflow_for(runtime, None), clock=runtime.clock, limit=limit
        )

    report = _run(database_url, data_dir, gateway_config, work)
    typer.echo(
        f"apgraph: {len(report.paid)} paid, {len(report.failed)} failed, "
        f"{len(report.pending)} pending"
    )


@payments_app.command("replay")
def replay(
    limit: int = Limit,
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Order again the payments the ERP could not take (RELEASE_FAILED), each under its one
    key (never twice). Exit 1 if any still fails."""

    async def work(runtime: Runtime) -> list[Payment]:
        return await payment_release.replay_failed_releases(
            workflow=workflow_for(runtime, None), clock=runtime.clock, limit=limit
        )

    replayed = _run(database_url, data_dir, gateway_config, work)
    for payment in replayed:
        typer.echo(f"{payment.id}  {payment.status.value}")
    still = [p for p in replayed if p.status.value == "RELEASE_FAILED"]
    if still:
        fail(f"{len(still)} payment(s) still failing; try again later")
    typer.echo(f"apgraph: replayed {len(replayed)} payment(s)")
