"""`apgraph events replay --since … --to …`: the persisted outbox handed again to one consumer.

Every consumer dedupes by event id (or sequence), so replaying events it already has changes
nothing; replay from the last point a consumer is known to have, or earlier. In embedded mode
the analytics simulator lives inside each process, so `--to analytics` reaches this command's
own; with connectors.mode: remote it reaches the real platform. `--to bus` needs
APGRAPH_BUS_URL: the in-process bus lives inside the server.
"""

from pathlib import Path

import typer

from apgraph.cli.options import DatabaseUrl, DataDir, GatewayConfigPath, fail, settings_from
from apgraph.cli.progress import progress_bar
from apgraph.cli.runtime import on_runtime
from apgraph.events.replay import ReplayRefused, plan, replay_events
from apgraph.gateway.event_replay import replay_consumers
from apgraph.gateway.live import BusUnreachable, connect_bus
from apgraph.gateway.runtime import Runtime
from apgraph.services.ports.bus import BusRejected, BusUnavailable
from apgraph.services.ports.connectors import ConnectorError
from apgraph.store.outbox import OutboxRepository

events_app = typer.Typer(help="The persisted outbox: committed events, in sequence order.")


def register(app: typer.Typer) -> None:
    app.add_typer(events_app, name="events")


@events_app.command("replay")
def replay(
    since: str = typer.Option(
        ...,
        "--since",
        help="An event cursor (from `events` or a subscription: replays the events after it) "
        "or an ISO 8601 timestamp (the events that occurred at or after it; UTC if no zone).",
    ),
    to: str = typer.Option(
        ...,
        "--to",
        help="The consumer: analytics, bus, or a registered prefix such as webhook:<id>.",
    ),
    database_url: str = DatabaseUrl,
    data_dir: Path = DataDir,
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Hand the events committed since a point to one consumer again, oldest first."""
    settings = settings_from(
        database_url=database_url, data_dir=data_dir, gateway_config=gateway_config
    )
    if to == "bus" and settings.bus_url is None:
        fail("--to bus needs APGRAPH_BUS_URL: the in-process bus lives inside the server")

    async def replayed(runtime: Runtime) -> int:
        if to == "bus":
            bus = await connect_bus(settings)
            runtime.live.bus, runtime.live.close_bus = bus, bus.close
        consumer = await replay_consumers(runtime).resolve(to)
        outbox = OutboxRepository(runtime.engine)
        replay = await plan(outbox, since)
        with progress_bar(replay.total, "events") as advance:
            return await replay_events(outbox, replay, consumer, on_batch=advance)

    try:
        delivered = on_runtime(settings, replayed)
    except (ReplayRefused, BusUnreachable) as error:
        fail(str(error))
    except (BusUnavailable, BusRejected, ConnectorError) as error:
        fail(f"{to} did not take the events; the replay stopped there: {error}")
    typer.echo(f"apgraph: replayed {delivered} event(s) to {to}")
