"""`apgraph webhooks add|list|remove`: a partner client's webhooks, managed by an operator on
the client's behalf (the client itself uses registerWebhook). Thin over the webhook service:
the same URL checks, the same secret shown once."""

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer

from apgraph.cli.options import DatabaseUrl, DataDir, GatewayConfigPath, fail, settings_from
from apgraph.cli.runtime import on_runtime
from apgraph.domain.clients import Client
from apgraph.domain.problems import Outcome
from apgraph.domain.webhooks import Registered
from apgraph.gateway.runtime import Runtime
from apgraph.services import webhooks as service

T = TypeVar("T")

webhooks_app = typer.Typer(help="Partner clients' webhooks: where their events are delivered.")
ClientOption = typer.Option(..., "--client", help="The partner client's id (cli_…).")


def register(app: typer.Typer) -> None:
    app.add_typer(webhooks_app, name="webhooks")


def _with_client(
    client_id: str,
    database_url: str | None,
    data_dir: Path | None,
    gateway_config: Path | None,
    work: Callable[[Runtime, Client], Awaitable[T]],
) -> T:
    """Runs `work` for an active registered client, on the database as it is."""
    settings = settings_from(
        database_url=database_url, data_dir=data_dir, gateway_config=gateway_config
    )

    async def as_client(runtime: Runtime) -> T:
        client = await runtime.clients.get(client_id)
        if client is None or not client.active:
            fail(f"no active client {client_id}")
        await runtime.keyring.reload()
        return await work(runtime, client)

    return on_runtime(settings, as_client)


def _problems(outcome: Outcome[T]) -> None:
    if not outcome.ok:
        for problem in outcome.problems:
            where = ".".join(problem.path)
            typer.echo(f"{problem.code.value}  {where}  {problem.message}", err=True)
        fail("refused; nothing was changed")


@webhooks_app.command("add")
def add(
    client: str = ClientOption,
    url: str = typer.Option(..., help="Where to POST each event (loopback unless allowed)."),
    event: list[str] = typer.Option(
        ..., "--event", help="An event type to deliver, e.g. invoice.posted (repeatable)."
    ),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Register a webhook for a client; prints its id and signing secret (shown this once)."""

    async def work(runtime: Runtime, owner: Client) -> Outcome[Registered]:
        return await service.register_webhook(
            deps=runtime.webhooks,
            client_id=owner.client_id,
            scopes=owner.scopes & runtime.webhook_rules.partner_scopes,
            url=url,
            event_types=event,
        )

    outcome = _with_client(client, database_url, data_dir, gateway_config, work)
    _problems(outcome)
    assert outcome.value is not None
    typer.echo(f"webhook_id: {outcome.value.webhook.id}")
    typer.echo(f"secret:     {outcome.value.secret}")
    typer.echo("apgraph: hand the secret to the partner now; it cannot be shown again")


@webhooks_app.command("list")
def list_webhooks(
    client: str = ClientOption,
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """A client's webhooks, oldest first (never their secrets)."""

    async def work(runtime: Runtime, owner: Client) -> list[str]:
        found = await runtime.webhooks.registry.of_client(owner.client_id)
        return [
            f"{w.id}  {w.created_at:%Y-%m-%d %H:%M}  {w.url}  {' '.join(sorted(w.event_types))}"
            for w in found
        ]

    lines = _with_client(client, database_url, data_dir, gateway_config, work)
    typer.echo("\n".join(lines) if lines else f"apgraph: {client} has no webhooks")


@webhooks_app.command("remove")
def remove(
    webhook_id: str = typer.Argument(..., help="WHK-…"),
    client: str = ClientOption,
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Remove a client's webhook; deliveries not made yet are dropped with it."""

    async def work(runtime: Runtime, owner: Client) -> Outcome[str]:
        return await service.remove_webhook(
            deps=runtime.webhooks, client_id=owner.client_id, webhook_id=webhook_id
        )

    _problems(_with_client(client, database_url, data_dir, gateway_config, work))
    typer.echo(f"apgraph: removed {webhook_id}")
