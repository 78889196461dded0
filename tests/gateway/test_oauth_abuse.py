"""The token endpoint from an attacker's side (issue 12, item 4), on the embedded default.

Each test runs its own uvicorn server on loopback over one seeded SQLite file, so the
in-process budgets start empty; requests come from distinct source addresses (127.0.0.x,
all loopback) the way an attacker and a partner on different hosts would.
"""

import asyncio
import secrets
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from apgraph.demo import writer as demo_writer
from apgraph.gateway.app import create_app
from apgraph.gateway.runtime import embedded_issuer
from apgraph.policies.loader import load_gateway_config
from apgraph.store import migrate
from tests import live_server
from tests.conftest import Api, settings_for
from tests.databases import Database, make_database
from tests.gateway import partners
from tests.keys import keyring_for

SECRET = "s3cret-for-tests"
AUDIT = """
query($s: String) {
  auditLog(filter: {subject: $s, action: "token.refused"}, first: 100) {
    edges { node { subject clientId traceId detail } }
  }
}
"""


@pytest.fixture(scope="module")
async def database(tmp_path_factory, network) -> Database:
    database = await make_database("sqlite", tmp_path_factory.mktemp("token-abuse"))
    engine = database.engine()
    await migrate.upgrade(engine)
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))
    await engine.dispose()
    return database


@asynccontextmanager
async def serving(database: Database, tmp_path, **settings: Any) -> AsyncIterator[Api]:
    """A fresh server (empty budgets) on `database`; refusal bursts end after 0.2 s quiet."""
    settings = settings_for(
        database,
        tmp_path / f"data-{secrets.token_hex(4)}",
        **{"token_refusal_burst_seconds": 0.2, **settings},
    )
    app = create_app(settings, load_gateway_config(settings.gateway_config))
    with live_server.serving(app, name="token endpoint") as base:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            yield Api(client, "sqlite", embedded_issuer(settings), settings)


@pytest.fixture
async def server(database, tmp_path) -> AsyncIterator[Api]:
    async with serving(database, tmp_path) as api:
        yield api


@asynccontextmanager
async def host(api: Api, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests leave from `address`: another machine, as the server sees it."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(
        base_url=str(api.client.base_url), transport=transport, timeout=60
    ) as client:
        yield client


async def ask(client: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=httpx.BasicAuth(client_id, secret),
    )


def statuses(responses: list[httpx.Response]) -> list[int]:
    return [response.status_code for response in responses]


def random_ids(count: int) -> Iterator[str]:
    return (f"cli_{secrets.token_hex(8)}" for _ in range(count))


async def test_an_attacker_who_knows_a_partners_client_id_cannot_lock_the_partner_out(server):
    # given a partner, and an attacker on another host who knows its client id
    partner = await partners.register(server, facilities=["FAC-0001"], secret=SECRET)

    # when the attacker guesses ten times
    async with host(server, "127.0.0.2") as attacker:
        guesses = [await ask(attacker, partner.client_id, f"guess-{n}") for n in range(10)]
        retry = await ask(attacker, partner.client_id, SECRET)

    # then the attacker is throttled, even when it finally sends the right secret...
    assert statuses(guesses) == [401] * 5 + [429] * 5
    assert int(guesses[-1].headers["retry-after"]) > 0
    assert retry.status_code == 429
    # ...while the partner, from its own host, gets its token at once
    async with host(server, "127.0.0.3") as own_host:
        answer = await ask(own_host, partner.client_id, SECRET)
    assert answer.status_code == 200, answer.text


async def test_a_host_that_keeps_failing_waits_longer_each_time(database, tmp_path):
    # the first rung's window is long enough that three guesses always fall inside it, however
    # slow the machine (a 1 s window made the test depend on how fast scrypt ran)
    async with serving(database, tmp_path, token_throttle_per_client="2/10 seconds;3/hour") as api:
        partner = await partners.register(api, facilities=["FAC-0001"], secret=SECRET)
        async with host(api, "127.0.0.2") as attacker:
            first = [await ask(attacker, partner.client_id, "guess") for _ in range(3)]
            assert statuses(first) == [401, 401, 429]
            assert int(first[-1].headers["retry-after"]) <= 10  # the first rung: seconds
            deadline = asyncio.get_running_loop().time() + 60
            while (again := await ask(attacker, partner.client_id, "guess")).status_code == 429:
                assert asyncio.get_running_loop().time() < deadline, "never admitted again"
                await asyncio.sleep(0.2)
            assert again.status_code == 401  # the third failure spends the hour's rung
            longer = await ask(attacker, partner.client_id, "guess")
        assert longer.status_code == 429
        assert int(longer.headers["retry-after"]) > 60


async def test_random_client_ids_from_one_host_are_throttled(database, tmp_path):
    async with serving(database, tmp_path, token_throttle_per_source="8/minute") as api:
        partner = await partners.register(api, facilities=["FAC-0001"], secret=SECRET)
        async with host(api, "127.0.0.4") as sprayer:
            spray = [await ask(sprayer, client_id, "guess") for client_id in random_ids(12)]
        assert statuses(spray) == [401] * 8 + [429] * 4
        async with host(api, "127.0.0.5") as own_host:  # a host that did not fail
            assert (await ask(own_host, partner.client_id, SECRET)).status_code == 200


async def test_a_spray_from_many_hosts_is_throttled_overall(database, tmp_path):
    async with serving(database, tmp_path, token_throttle_overall="6/minute") as api:
        partner = await partners.register(api, facilities=["FAC-0001"], secret=SECRET)
        first = []
        for n, client_id in enumerate(random_ids(6), start=1):
            async with host(api, f"127.0.1.{n}") as sprayer:
                first.append(await ask(sprayer, client_id, "guess"))
        assert statuses(first) == [401] * 6
        # the overall budget is spent: a host that failed is refused before any check...
        async with host(api, "127.0.1.1") as sprayer:
            again = await ask(sprayer, next(random_ids(1)), "guess")
        assert again.status_code == 429
        # ...a new host still gets its one guess, and a host that never failed its token
        async with host(api, "127.0.1.7") as newcomer:
            assert (await ask(newcomer, next(random_ids(1)), "guess")).status_code == 401
        async with host(api, "127.0.1.8") as own_host:
            assert (await ask(own_host, partner.client_id, SECRET)).status_code == 200


def counted(entry: dict[str, Any]) -> int:
    return int(entry["detail"].split()[0].removeprefix("count="))


async def audited(api: Api, subject: str, count: int, *, source: str) -> list[dict[str, Any]]:
    """The `token.refused` entries of `subject` from `source`, once they account for `count`
    refusals (they are written when a burst ends)."""
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        data = await api.data(AUDIT, {"s": subject})
        entries = [
            edge["node"]
            for edge in data["auditLog"]["edges"]
            if f"source={source} " in edge["node"]["detail"]
        ]
        if sum(map(counted, entries)) >= count:
            return entries
        assert asyncio.get_running_loop().time() < deadline, entries
        await asyncio.sleep(0.1)


async def test_refusals_are_audited_one_entry_per_burst_with_a_count(database, tmp_path):
    # a burst ends after 5 s quiet here, not 0.2 s: however slow the machine, the twelve
    # sequential guesses are one burst per reason (a 0.2 s gap split them under load)
    async with serving(
        database, tmp_path, token_throttle_overall="1000/minute", token_refusal_burst_seconds=5
    ) as server:
        await refusals_are_audited_one_entry_per_burst_with_a_count(server)


async def refusals_are_audited_one_entry_per_burst_with_a_count(server: Api) -> None:
    # given a partner under attack, and a spray of client ids nobody registered
    partner = await partners.register(server, facilities=["FAC-0001"], secret=SECRET)
    async with host(server, "127.0.0.6") as attacker:
        attack = [await ask(attacker, partner.client_id, f"guess-{n}") for n in range(12)]
        spray = [await ask(attacker, client_id, "guess") for client_id in random_ids(6)]
    assert statuses(attack) == [401] * 5 + [429] * 7

    # then the partner's trail holds one entry per burst (failed, throttled), counting all 12
    entries = await audited(server, partner.client_id, 12, source="127.0.0.6")
    assert len(entries) == 2
    assert {entry["detail"].split("reason=")[1].split("'")[1] for entry in entries} == {
        "client authentication failed",
        "too many failures for this client from this address",
    }
    for entry in entries:
        assert entry["clientId"] == partner.client_id
        assert "source=127.0.0.6" in entry["detail"]
        assert entry["traceId"].startswith("tr-")
    # every refusal carries an id the caller can quote; a burst names its first and last
    ids = [response.json()["refusal_id"] for response in attack]
    assert len(set(ids)) == 12
    details = " ".join(entry["detail"] for entry in entries)
    assert f"refusals={ids[0]}..{ids[4]}" in details
    assert f"refusals={ids[5]}..{ids[11]}" in details
    # and six random client ids are one entry, not six
    unknown = await audited(server, "unknown-client", 6, source="127.0.0.6")
    assert len(unknown) == 1
    assert unknown[0]["detail"].startswith("count=6 ")
    assert all(response.status_code == 401 for response in spray)


async def test_concurrent_failures_on_sqlite_never_answer_500(server):
    # given a partner
    partner = await partners.register(server, facilities=["FAC-0001"], secret=SECRET)

    # when 16 hosts at once keep sending wrong secrets for it and for random client ids,
    # while the partner asks for its token
    async def guesses(address: str) -> list[int]:
        async with host(server, address) as attacker:
            found = []
            for client_id in random_ids(GUESSES):
                found.append((await ask(attacker, partner.client_id, "guess")).status_code)
                found.append((await ask(attacker, client_id, "guess")).status_code)
            return found

    async def partner_asks() -> int:
        async with host(server, "127.0.2.99") as own_host:
            return (await ask(own_host, partner.client_id, SECRET)).status_code

    *refused, answered = await asyncio.gather(
        *(guesses(f"127.0.2.{n}") for n in range(1, 17)), partner_asks()
    )

    # then nothing is a server error, and every refusal of the partner's id is audited
    found = Counter(status for statuses in refused for status in statuses)
    assert set(found) <= {401, 429}, found
    assert answered == 200
    for n in range(1, 17):
        entries = await audited(server, partner.client_id, GUESSES, source=f"127.0.2.{n}")
        assert sum(map(counted, entries)) == GUESSES


GUESSES = 6  # per host and kind; 16 hosts at once keep SQLite's one writer busy


async def test_a_token_asked_for_while_sqlite_is_locked_is_a_503_to_retry_not_a_500(
    server, database
):
    # given a partner, and another writer holding SQLite's one write lock past the busy timeout
    partner = await partners.register(server, facilities=["FAC-0001"], secret=SECRET)
    writer = sqlite3.connect(database.url.split(":///", 1)[1], isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")

        # when the partner asks for its token
        async with host(server, "127.0.3.1") as own_host:
            busy = await ask(own_host, partner.client_id, SECRET)
    finally:
        writer.execute("ROLLBACK")
        writer.close()

    # then it is told to come back (no token unaudited, no server error), and then gets it
    assert busy.status_code == 503, busy.text
    assert busy.json()["error"] == "temporarily_unavailable"
    assert int(busy.headers["retry-after"]) >= 1
    async with host(server, "127.0.3.1") as own_host:
        assert (await ask(own_host, partner.client_id, SECRET)).status_code == 200
