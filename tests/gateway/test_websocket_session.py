"""A WebSocket lives only as long as its token: every operation is authorized as an HTTP
request would be, and the server ends the socket when the token expires (4401) or its client
is revoked (4403), refusing any operation asked for after that moment."""

import asyncio
import base64
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import websockets
from sqlalchemy import update
from websockets.exceptions import ConnectionClosed

from apgraph.domain.principal import Role
from apgraph.store.clients import ClientRepository
from apgraph.store.database import create_engine
from apgraph.store.tables import OAuthClientRow
from tests.gateway import partners

BOUND = 30  # seconds: only a bound on a hang, never what a test measures
SUPPLIERS = "{ suppliers(first: 1) { totalCount } }"
INVOICES = "{ invoices(first: 100) { totalCount edges { node { facility { id } } } } }"


FINANCE = "/products/finance-ops/v1/graphql"  # an AP clerk's endpoint
PARTNER = "/products/partner-procurement/v1/graphql"


def url(api, path):
    return str(api.client.base_url).replace("http://", "ws://") + path


@pytest.fixture(scope="module")
async def partner_api(live_api, tmp_path_factory):
    """`live_api`'s database on loopback, its partner product's allow-list holding the
    operations these partners send (the subject here is the socket, not the list)."""
    list_dir = tmp_path_factory.mktemp("partner-operations")
    async with partners.partner_endpoint(live_api, list_dir, SUPPLIERS, INVOICES) as api:
        yield api


async def connect(api, token, path):
    ws = await websockets.connect(
        url(api, path),
        subprotocols=["graphql-transport-ws"],
        additional_headers={"Authorization": f"Bearer {token}"},
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await asyncio.wait_for(ws.recv(), BOUND))["type"] == "connection_ack"
    return ws


async def run(ws, operation_id, query):
    """The operation's payloads ('next' and 'error'), up to its 'complete'."""
    await ws.send(
        json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": query}})
    )
    payloads = []
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), BOUND))
        if message["type"] in ("next", "error"):
            payloads.append(message["payload"])
        if message["type"] in ("complete", "error"):
            return payloads


async def until_closed(ws):
    """Everything the server still sends, then the code it closes with."""
    received = []
    try:
        async with asyncio.timeout(BOUND):
            while True:
                received.append(json.loads(await ws.recv()))
    except ConnectionClosed as closed:
        return received, closed.rcvd.code if closed.rcvd else None


def expiry_of(token):
    """The token's `exp`, read the way any holder of it could."""
    claims = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["exp"]


async def set_scopes(api, client_id, scopes):
    engine = create_engine(api.settings.resolved_database_url, schema=api.settings.database_schema)
    async with engine.begin() as connection:
        await connection.execute(
            update(OAuthClientRow)
            .where(OAuthClientRow.__table__.c.client_id == client_id)
            .values(scopes=sorted(scopes))
        )
    await engine.dispose()


async def revoke(api, client_id):
    engine = create_engine(api.settings.resolved_database_url, schema=api.settings.database_schema)
    assert await ClientRepository(engine).revoke(client_id, at=datetime.now(UTC))
    await engine.dispose()


async def test_the_server_closes_a_socket_with_4401_when_its_token_expires(live_api):
    # given a socket opened with a token that lives a few seconds
    token = live_api.token(Role.AP_CLERK, lifetime=timedelta(seconds=3))
    ws = await connect(live_api, token, FINANCE)

    # when the client just listens
    received, code = await until_closed(ws)

    # then the server, not the client, ends it: Unauthorized, once the token has expired
    assert code == 4401
    assert received == []
    assert time.time() >= expiry_of(token)


async def test_no_operation_runs_on_a_socket_after_its_token_expired(live_api):
    # given a socket whose token expires while the client keeps asking
    token = live_api.token(Role.AP_CLERK, lifetime=timedelta(seconds=3))
    ws = await connect(live_api, token, FINANCE)
    answered_sent_at = []

    # when the client sends query after query until the server stops it
    try:
        async with asyncio.timeout(BOUND):
            for number in range(1_000_000):
                sent_at = time.time()
                payloads = await run(ws, f"q{number}", SUPPLIERS)
                assert "errors" not in payloads[0], payloads
                answered_sent_at.append(sent_at)
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else None

    # then it was closed with 4401, and every query answered was asked before the expiry
    # (a query the server received later was sent later still)
    assert code == 4401
    assert answered_sent_at
    assert max(answered_sent_at) < expiry_of(token)


async def test_the_server_closes_a_partners_socket_with_4403_when_its_client_is_revoked(
    live_api, partner_api
):
    # given a partner listening on a socket
    client = await partners.register(live_api, facilities=["FAC-0003"])
    ws = await connect(partner_api, partners.token_for(live_api, client), PARTNER)
    assert "errors" not in (await run(ws, "before", SUPPLIERS))[0]

    # when an operator revokes its client (its token has minutes left)
    await revoke(live_api, client.client_id)

    # then the server ends the socket: Forbidden
    received, code = await until_closed(ws)
    assert (received, code) == ([], 4403)


async def test_an_operation_asked_for_after_revocation_is_refused_not_run(live_api, partner_api):
    # given a partner's socket that has answered once
    client = await partners.register(live_api, facilities=["FAC-0003"])
    ws = await connect(partner_api, partners.token_for(live_api, client), PARTNER)
    assert "errors" not in (await run(ws, "before", INVOICES))[0]

    # when its client is revoked and it asks again at once
    await revoke(live_api, client.client_id)
    await ws.send(json.dumps({"id": "after", "type": "subscribe", "payload": {"query": INVOICES}}))

    # then no answer comes: the socket is closed with 4403
    received, code = await until_closed(ws)
    assert (received, code) == ([], 4403)


async def test_each_operation_on_a_socket_gets_the_scopes_the_client_has_now(live_api, partner_api):
    # given a partner's socket that may read suppliers
    client = await partners.register(live_api, facilities=["FAC-0003"])
    ws = await connect(partner_api, partners.token_for(live_api, client), PARTNER)
    assert "errors" not in (await run(ws, "before", SUPPLIERS))[0]

    # when an operator takes suppliers:read from the client
    await set_scopes(live_api, client.client_id, client.scopes - {"suppliers:read"})

    # then the next operation on the same socket is refused as an HTTP request would be
    [payload] = await run(ws, "after", SUPPLIERS)
    assert payload["data"] == {"suppliers": None}
    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await ws.close()


async def test_row_rules_hold_on_a_socket_as_over_http(live_api, partner_api, network):
    # given a partner client registered for FAC-0003
    client = await partners.register(live_api, facilities=["FAC-0003"])
    ws = await connect(partner_api, partners.token_for(live_api, client), PARTNER)

    # when it lists invoices over the socket
    [payload] = await run(ws, "rows", INVOICES)
    await ws.close()

    # then it sees FAC-0003's and nothing else, as over HTTP
    edges = payload["data"]["invoices"]["edges"]
    assert {e["node"]["facility"]["id"] for e in edges} == {"FAC-0003"}
    assert payload["data"]["invoices"]["totalCount"] == sum(
        1 for i in network.invoices if i.facility_id == "FAC-0003"
    )


async def test_a_subscription_ends_with_its_token(live_api):
    # given a subscription opened with a token that lives a few seconds
    token = live_api.token(Role.AP_CLERK, lifetime=timedelta(seconds=3))
    ws = await connect(live_api, token, FINANCE)
    subscription = "subscription { invoiceStatusChanged { cursor invoiceId } }"
    await ws.send(
        json.dumps({"id": "feed", "type": "subscribe", "payload": {"query": subscription}})
    )

    # when the client keeps listening, then the server ends the socket at the token's expiry
    received, code = await until_closed(ws)
    assert code == 4401
    assert all(message.get("type") != "error" for message in received), received
    assert time.time() >= expiry_of(token)
