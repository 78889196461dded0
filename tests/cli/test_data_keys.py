"""`apgraph keys rotate-data | reseal`, run as commands on a temporary database."""

import asyncio
import os
import re

from sqlalchemy import select
from typer.testing import CliRunner

from apgraph.cli.main import app
from apgraph.settings import Settings
from apgraph.store.database import create_engine
from apgraph.store.keyring import DATA
from apgraph.store.reading import fetch
from apgraph.store.tables import DataKeyRow


def run(*arguments: str):
    kept = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    return CliRunner().invoke(app, list(arguments), env=kept)


def data_key_ids(data_dir: str) -> list[str]:
    async def read() -> list[str]:
        engine = create_engine(Settings(data_dir=data_dir).resolved_database_url)
        try:
            rows = await fetch(engine, select(DataKeyRow.id).where(DataKeyRow.purpose == DATA))
            return sorted(row.id for row in rows)
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_rotation_keeps_the_retired_key_while_a_server_may_still_seal_with_it(tmp_path):
    # given a database with its first data key
    data_dir = str(tmp_path / "data")
    assert run("db", "upgrade", "--data-dir", data_dir).exit_code == 0
    [first] = data_key_ids(data_dir)

    # when an operator rotates the data key (resealing at once) and reseals again right away
    rotated = run("keys", "rotate-data", "--data-dir", data_dir)
    again = run("keys", "reseal", "--data-dir", data_dir)

    # then no row needs the first key any more, but it is kept, and the output says until when
    assert rotated.exit_code == 0, rotated.output
    assert again.exit_code == 0, again.output
    for output in (rotated.output, again.output):
        assert re.search(rf"retired data key {first} kept until \d{{4}}-\d\d-\d\d ", output)
    keys = data_key_ids(data_dir)
    assert first in keys
    assert len(keys) == 2


def test_with_no_server_to_wait_for_the_retired_key_goes_at_once(tmp_path):
    data_dir = str(tmp_path / "data")
    assert run("db", "upgrade", "--data-dir", data_dir).exit_code == 0
    [first] = data_key_ids(data_dir)

    rotated = run("keys", "rotate-data", "--keep-retired-minutes", "0", "--data-dir", data_dir)

    assert rotated.exit_code == 0, rotated.output
    assert f"retired data key(s) dropped: {first}" in rotated.output
    [active] = data_key_ids(data_dir)
    assert active != first
