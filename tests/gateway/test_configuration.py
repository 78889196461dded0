"""Traceable change management: each start records its effective configuration (no secret
in it), audits what changed since the start before, and operators can read what runs."""

import asyncio
import json
import os

import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from apgraph.cli.main import app
from apgraph.domain.principal import Role
from apgraph.gateway.configuration import effective_configuration
from apgraph.gateway.startup import prepare
from apgraph.policies.loader import load_gateway_config
from apgraph.settings import Settings
from apgraph.store.database import create_engine
from apgraph.store.tables import AuditEntryRow, InvoiceRow
from tests.conftest import ROOT
from tests.keys import TEST_KEK

CONFIGURATION = "{ configuration { fingerprint version document } }"


def gateway_yaml(tmp_path, *, window: int, confusables: bool = True):
    raw = yaml.safe_load((ROOT / "gateway.yaml").read_text())
    raw["facilities"] = {}  # a database without the demo network
    raw["matching"]["duplicate_window_days"] = window
    raw["matching"]["duplicates"]["map_confusables"] = confusables
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def run(*arguments: str, **environment: str):
    kept = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    return CliRunner().invoke(app, list(arguments), env={**kept, **environment})


async def config_entries(settings: Settings) -> list[dict]:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(
                select(AuditEntryRow.detail)
                .where(AuditEntryRow.action == "config.started")
                .order_by(AuditEntryRow.sequence)
            )
            return [json.loads(detail) for detail in found.scalars()]
    finally:
        await engine.dispose()


def test_a_change_between_two_starts_shows_in_the_history_and_the_audit_trail(tmp_path):
    # given a server started once with a duplicate window of 7 days
    settings = Settings(
        data_dir=tmp_path / "data",
        gateway_config=gateway_yaml(tmp_path, window=7),
        seed_demo_data=False,
        key_encryption_key=TEST_KEK,
    )
    asyncio.run(prepare(settings))

    # when gateway.yaml changes the window to 10 days and the server starts again
    gateway_yaml(tmp_path, window=10)
    asyncio.run(prepare(settings))

    # then the history names the change, with both values
    result = run("config", "history", "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 0, result.output
    assert "  gateway_yaml.effective.matching.duplicate_window_days: 7 → 10" in result.output
    # and the audit trail has both starts, the second naming the first and what changed
    first, second = asyncio.run(config_entries(settings))
    assert first["previous"] is None
    assert second["previous"] == first["fingerprint"]
    assert "gateway_yaml.effective.matching.duplicate_window_days" in second["changed"]
    assert "gateway_yaml.sha256" in second["changed"]


def test_a_restart_with_nothing_changed_records_the_same_fingerprint(tmp_path):
    settings = Settings(
        data_dir=tmp_path / "data",
        gateway_config=gateway_yaml(tmp_path, window=7),
        seed_demo_data=False,
        key_encryption_key=TEST_KEK,
    )
    asyncio.run(prepare(settings))
    asyncio.run(prepare(settings))

    first, second = asyncio.run(config_entries(settings))
    assert second["fingerprint"] == first["fingerprint"]
    assert second["changed"] == []
    result = run("config", "history", "--data-dir", str(tmp_path / "data"))
    assert result.output.splitlines()[-1] == "  unchanged"


def test_no_secret_is_ever_in_the_recorded_configuration(tmp_path):
    settings = Settings(
        data_dir=tmp_path,
        gateway_config=ROOT / "gateway.yaml",
        key_encryption_key=TEST_KEK,
        cloud_erp_client_secret="s3cret-cloud",
        database_url="postgresql+asyncpg://apgraph:hunter2@db.internal/apgraph",
    )

    document = json.dumps(
        effective_configuration(settings, load_gateway_config(settings.gateway_config))
    )

    for secret in (TEST_KEK, "s3cret-cloud", "hunter2"):
        assert secret not in document
    assert '"key_encryption_key": "(redacted)"' in document
    assert "apgraph:***@db.internal" in document


async def number_key_rules(settings: Settings) -> set[str | None]:
    engine = create_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(select(InvoiceRow.number_key_rules).distinct())
            return set(found.scalars())
    finally:
        await engine.dispose()


def test_each_start_keys_the_invoice_numbers_under_the_duplicate_rules_it_runs_with(tmp_path):
    # given a server started on a fresh demo network with the shipped duplicate rules
    path = gateway_yaml(tmp_path, window=7)
    settings = Settings(
        data_dir=tmp_path / "data",
        gateway_config=path,
        seed_demo_data=True,
        demo_scale=0.01,
        key_encryption_key=TEST_KEK,
    )
    asyncio.run(prepare(settings))
    shipped = load_gateway_config(path).matching.duplicates.numbers().fingerprint
    assert asyncio.run(number_key_rules(settings)) == {shipped}  # the seed's too

    # when it starts again with confusables no longer mapped
    changed = gateway_yaml(tmp_path, window=7, confusables=False)
    asyncio.run(prepare(settings))

    # then every invoice number is keyed under the rules it runs with now
    now = load_gateway_config(changed).matching.duplicates.numbers().fingerprint
    assert now != shipped
    assert asyncio.run(number_key_rules(settings)) == {now}


async def test_an_operator_reads_the_running_configuration_and_a_clerk_may_not(api):
    data = await api.data(CONFIGURATION)

    running = data["configuration"]
    document = json.loads(running["document"])
    assert len(running["fingerprint"]) == 64
    assert document["settings"]["key_encryption_key"] == "(redacted)"
    assert TEST_KEK not in running["document"]
    assert "supplier-portal/v1.graphql" in document["contracts"]

    # a clerk finds it neither in finance-ops' view nor behind /graphql's operators' door
    token = api.token(Role.AP_CLERK)
    clerk = await api.graphql(CONFIGURATION, token=token, product="finance-ops/v1")
    internal = await api.graphql(CONFIGURATION, token=token)
    assert [e["extensions"]["code"] for e in clerk["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert clerk["data"] is None
    assert [e["extensions"]["code"] for e in internal["errors"]] == ["OPERATORS_ONLY"]
    assert internal["data"] is None
