"""`apgraph webhooks add|list|remove`, run as commands on a temporary database."""

import asyncio
import os
import re
import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from apgraph.cli.main import app
from apgraph.domain.clients import Client
from apgraph.gateway.key_encryption import keyring
from apgraph.gateway.startup import load_config
from apgraph.settings import Settings
from apgraph.store.clients import ClientRepository
from apgraph.store.database import create_engine
from apgraph.store.keyring import DATA
from apgraph.store.reading import fetch
from apgraph.store.tables import DataKeyRow
from apgraph.store.webhooks import SqlWebhooks


def run(*arguments: str):
    kept = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    return CliRunner().invoke(app, list(arguments), env=kept)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("webhooks-cli") / "data"
    upgraded = run("db", "upgrade", "--data-dir", str(path))
    assert upgraded.exit_code == 0, upgraded.output
    return str(path)


def partner_in(data_dir: str, *, scopes=("invoices:read", "webhooks:manage")) -> str:
    client = Client(
        client_id=f"cli_{secrets.token_hex(8)}",
        name="cli partner",
        secret_hash="unused",
        scopes=frozenset(scopes),
        product="partner-procurement",
        facility_ids=frozenset({"FAC-0001"}),
        created_at=datetime.now(UTC),
        revoked_at=None,
    )

    async def add() -> None:
        settings = Settings(data_dir=data_dir)
        engine = create_engine(settings.resolved_database_url)
        await ClientRepository(engine).add(client)
        await engine.dispose()

    asyncio.run(add())
    return client.client_id


def test_add_list_remove(data_dir):
    # given a partner client
    client = partner_in(data_dir)

    # when an operator adds a webhook for it
    added = run(
        "webhooks", "add", "--client", client, "--url", "http://127.0.0.1:8900/hooks",
        "--event", "invoice.posted", "--event", "invoice.rejected", "--data-dir", data_dir,
    )  # fmt: skip

    # then the id and the secret are printed once
    assert added.exit_code == 0, added.output
    webhook_id = re.search(r"webhook_id: (WHK-[0-9a-f]{16})", added.output).group(1)
    secret = re.search(r"secret:\s+(whsec_\S+)", added.output).group(1)

    # and the list shows the webhook, never the secret
    listed = run("webhooks", "list", "--client", client, "--data-dir", data_dir)
    assert listed.exit_code == 0, listed.output
    assert webhook_id in listed.output
    assert "invoice.posted invoice.rejected" in listed.output
    assert secret not in listed.output

    # when it is removed, the list is empty
    removed = run("webhooks", "remove", webhook_id, "--client", client, "--data-dir", data_dir)
    assert removed.exit_code == 0, removed.output
    listed = run("webhooks", "list", "--client", client, "--data-dir", data_dir)
    assert f"{client} has no webhooks" in listed.output


def test_a_private_url_is_refused_with_its_code_and_nothing_is_added(data_dir):
    client = partner_in(data_dir)

    added = run(
        "webhooks", "add", "--client", client, "--url", "http://169.254.169.254/latest",
        "--event", "invoice.posted", "--data-dir", data_dir,
    )  # fmt: skip

    assert added.exit_code == 1
    assert "WEBHOOK_URL_REFUSED" in added.output
    listed = run("webhooks", "list", "--client", client, "--data-dir", data_dir)
    assert "has no webhooks" in listed.output


def test_another_clients_webhook_cannot_be_removed(data_dir):
    owner, other = partner_in(data_dir), partner_in(data_dir)
    added = run(
        "webhooks", "add", "--client", owner, "--url", "http://127.0.0.1:8900/hooks",
        "--event", "invoice.posted", "--data-dir", data_dir,
    )  # fmt: skip
    webhook_id = re.search(r"(WHK-[0-9a-f]{16})", added.output).group(1)

    removed = run("webhooks", "remove", webhook_id, "--client", other, "--data-dir", data_dir)

    assert removed.exit_code == 1
    assert "WEBHOOK_NOT_FOUND" in removed.output


def test_an_unknown_client_is_one_line(data_dir):
    listed = run("webhooks", "list", "--client", "cli_nobody", "--data-dir", data_dir)
    assert listed.exit_code == 1
    assert "no active client cli_nobody" in listed.output


def test_rotating_the_data_key_moves_webhook_secrets_and_drops_the_old_key(tmp_path):
    # given a webhook added on a database of its own, its secret sealed under the data key
    data_dir = str(tmp_path / "data")
    assert run("db", "upgrade", "--data-dir", data_dir).exit_code == 0
    added = run(
        "webhooks", "add", "--client", partner_in(data_dir), "--url",
        "http://127.0.0.1:8900/hooks", "--event", "invoice.posted", "--data-dir", data_dir,
    )  # fmt: skip
    webhook_id = re.search(r"webhook_id: (WHK-[0-9a-f]{16})", added.output).group(1)
    secret = re.search(r"secret:\s+(whsec_\S+)", added.output).group(1)

    # when an operator rotates the data key (resealing at once), then reseals again, with no
    # server running (so the retired key need not be kept for one)
    rotated = run("keys", "rotate-data", "--keep-retired-minutes", "0", "--data-dir", data_dir)
    again = run("keys", "reseal", "--data-dir", data_dir)

    # then the secret moved once, the old key is gone, and the secret opens as it was
    assert rotated.exit_code == 0, rotated.output
    assert "1 webhook secret(s) moved" in rotated.output
    assert "0 webhook secret(s) moved" in again.output

    async def stored() -> tuple[str | None, list[str]]:
        settings = Settings(data_dir=data_dir)
        engine = create_engine(settings.resolved_database_url)
        try:
            keys = keyring(settings, load_config(settings), engine)
            data_keys = await fetch(engine, select(DataKeyRow.id).where(DataKeyRow.purpose == DATA))
            opened = await SqlWebhooks(engine, keys).secret_of(webhook_id)
            return opened, [row.id for row in data_keys]
        finally:
            await engine.dispose()

    opened, data_keys = asyncio.run(stored())
    assert opened == secret
    assert len(data_keys) == 1
    assert re.search(rf"data key {data_keys[0]}\b", rotated.output)
