"""`apgraph deadletters list|replay` over the one dead-letter store, as an operator runs them
against a server's database."""

import asyncio
import os
import sys

from tests.conftest import ROOT, TEST_SCALE
from tests.services.test_dead_letters import failed_posting, letters_of, reopen_erps


async def deadletters(api, *arguments: str) -> tuple[int, str, str]:
    settings = api.settings
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "apgraph.cli", "deadletters", *arguments),
        cwd=ROOT,
        env={
            **os.environ,
            "APGRAPH_DATABASE_URL": settings.database_url or "",
            "APGRAPH_DATABASE_SCHEMA": settings.database_schema or "",
            "APGRAPH_GATEWAY_CONFIG": str(settings.gateway_config),
            "APGRAPH_DATA_DIR": str(settings.data_dir),
            "APGRAPH_DEMO_SCALE": str(TEST_SCALE),
            "APGRAPH_KEY_ENCRYPTION_KEY": settings.key_encryption_key or "",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_list_and_replay_a_failed_posting_once(workflow_api, orders):
    api = workflow_api
    # given a posting that failed past every retry
    try:
        invoice = await failed_posting(api, orders)
    finally:
        reopen_erps(api.runtime)
    [letter] = await letters_of(api.runtime, invoice.id)

    # when an operator lists the postings, and the relayed events
    _, postings, _ = await deadletters(api, "list", "--kind", "POSTING", "--limit", "10000")
    _, relayed, _ = await deadletters(api, "list", "--kind", "RELAY")

    # then the letter is listed among the postings only
    assert f"{letter.id}  POSTING  {invoice.id}  ERP_UNAVAILABLE  attempts 1" in postings
    assert letter.id not in relayed

    # when it is replayed by its ID, twice
    first = await deadletters(api, "replay", "--id", letter.id)
    second = await deadletters(api, "replay", "--id", letter.id)

    # then it is posted once: the second run answers the first outcome
    assert first[0] == 0, first
    [done] = await letters_of(api.runtime, invoice.id)
    assert done.resolved
    assert f"{letter.id}  POSTING  {invoice.id}  {done.outcome}" in first[1]
    assert second[0] == 0, second
    assert f"{letter.id}  POSTING  {invoice.id}  {done.outcome}" in second[1]
    assert await letters_of(api.runtime, invoice.id) == [done]


async def test_replaying_an_unknown_letter_fails_in_one_line(workflow_api):
    code, _, err = await deadletters(workflow_api, "replay", "--id", "DL-999999999")

    assert code == 1
    assert "no dead letter DL-999999999" in err
