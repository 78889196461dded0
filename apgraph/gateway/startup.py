"""Gets a database ready before the server takes traffic, and refuses bad configuration.

Every failure becomes a StartupError with one readable line: the CLI prints it and exits,
with no traceback for an operator to dig through.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.gateway.configuration import effective_configuration, started_by
from apgraph.gateway.connectors import ConnectorSetupError, check_connector_settings
from apgraph.gateway.key_encryption import open_keyring, sealed_columns
from apgraph.gateway.live import BusUnreachable, connect_bus
from apgraph.gateway.products.operation_lists import OperationListError
from apgraph.gateway.products.routes import ProductSchemas
from apgraph.gateway.products.views import ViewError, check_views
from apgraph.gateway.refusal import StartupError
from apgraph.gateway.retention import check_retention_kinds
from apgraph.gateway.schema import build_schema
from apgraph.policies.gateway import GatewayConfig
from apgraph.policies.loader import ConfigError, load_gateway_config
from apgraph.policies.policy_file import with_policy_file
from apgraph.settings import Settings
from apgraph.store import migrate, number_keys
from apgraph.store.config_history import record_start
from apgraph.store.database import create_engine, is_sqlite
from apgraph.store.resealing import reseal
from apgraph.store.tables import FacilityRow

log = logging.getLogger("apgraph.startup")


@dataclass(frozen=True, slots=True)
class Prepared:
    config: GatewayConfig
    seeded: dict[str, int] | None  # row counts when demo data was loaded now


def load_config(settings: Settings) -> GatewayConfig:
    """gateway.yaml, its `matching` section replaced by `--policy FILE` when one is given."""
    try:
        config = with_policy_file(
            load_gateway_config(settings.gateway_config), settings.policy_file
        )
        check_connector_settings(settings, config.connectors)
        full = build_schema(config, show_error_detail=False, expose_sql_statements=False)
        check_views(config, full, source=settings.gateway_config)
        ProductSchemas.build(settings, config)  # each product's allow-list can be read
        sealed_columns(config)
        check_retention_kinds(config)
    except (ConfigError, ConnectorSetupError, ViewError, OperationListError) as error:
        raise StartupError(str(error)) from None
    return config


async def prepare(
    settings: Settings, *, run_migrations: bool = True, serving: bool = True
) -> Prepared:
    """Config checked, database reachable and migrated, demo data seeded if empty, invoice
    numbers keyed under the configured duplicate rules (store/number_keys.py). `serving`: a
    server is starting, so its configuration is recorded and audited."""
    config = load_config(settings)
    if is_sqlite(settings.resolved_database_url):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
    try:
        try:
            if run_migrations:
                await migrate.upgrade(engine)
            keyring = await open_keyring(settings, config, engine, now=datetime.now(UTC))
            resealed = await reseal(engine, keyring)
            if resealed.moved or resealed.secrets_moved:
                log.info(
                    "sealed %d supplier rows and %d webhook secrets under the active data key",
                    resealed.moved,
                    resealed.secrets_moved,
                )
            seeded = None
            if settings.seed_demo_data and await demo_writer.is_empty(engine):
                network = generator.generate(
                    generator.DemoSize().scaled(settings.demo_scale),
                    as_of=datetime.now(UTC).date(),  # the demo's exceptions are days old
                )
                seeded = await demo_writer.write(engine, network, keyring=keyring)
            keyed = await number_keys.make_keys(engine, config.matching.duplicates.numbers())
            if keyed:
                log.info("keyed %d invoice numbers under the duplicate rules", keyed)
            await check_facilities_exist(engine, config)
            await check_bus(settings)
            if serving:
                changed = await record_start(
                    engine,
                    effective_configuration(settings, config),
                    by=started_by(),
                    at=datetime.now(UTC),
                )
                for change in changed:
                    log.info("configuration changed since the last start: %s", change.line())
        except (OperationalError, DBAPIError, OSError) as error:
            raise StartupError(
                f"database {_redacted(settings.resolved_database_url)} is unreachable or "
                f"unusable: {_first_line(error)}"
            ) from None
    finally:
        await engine.dispose()
    return Prepared(config=config, seeded=seeded)


async def check_facilities_exist(engine: AsyncEngine, config: GatewayConfig) -> None:
    async with engine.connect() as connection:
        known = set((await connection.execute(select(FacilityRow.id))).scalars())
    unknown = sorted(set(config.facilities) - known)
    if unknown:
        raise StartupError(
            f"gateway.yaml: facilities: {', '.join(unknown)} not in the database "
            "(import or seed them, or remove them from gateway.yaml)"
        )
    overridden = sorted(set(config.facilities))
    if overridden:
        log.info("gateway.yaml overrides the stored ERP route of %s", ", ".join(overridden))


async def check_bus(settings: Settings) -> None:
    """With APGRAPH_BUS_URL set, NATS must answer: a server that cannot publish its events
    would let the outbox grow while every subscriber waits in silence."""
    try:
        bus = await connect_bus(settings)
    except BusUnreachable as error:
        raise StartupError(f"{error} (APGRAPH_BUS_URL; unset it for the in-process bus)") from None
    await bus.close()


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]
