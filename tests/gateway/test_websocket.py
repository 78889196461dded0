"""GraphQL over WebSocket: graphql-transport-ws only, and only with a bearer token."""

from datetime import timedelta

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from apgraph.domain.principal import Role

FINANCE = "/products/finance-ops/v1/graphql"  # an AP clerk's endpoint (/graphql: operators)


def url(api, path="/graphql"):
    return str(api.client.base_url).replace("http://", "ws://") + path


async def handshake(api, *, subprotocol, token, path="/graphql"):
    """What the server answers: ('http', status) before accepting, ('closed', code) after,
    or ('open', first message) when it speaks the protocol."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with websockets.connect(
            url(api, path), subprotocols=[subprotocol], additional_headers=headers
        ) as ws:
            await ws.send('{"type": "connection_init"}')
            return "open", await ws.recv()
    except InvalidStatus as refused:
        return "http", refused.response.status_code
    except ConnectionClosed as closed:
        return "closed", closed.rcvd.code if closed.rcvd else None


async def test_a_websocket_without_a_token_is_refused_before_it_opens(live_api):
    assert await handshake(
        live_api, subprotocol="graphql-transport-ws", token=None, path=FINANCE
    ) == (
        "http",
        403,
    )


async def test_a_token_opens_a_graphql_transport_ws_connection(live_api):
    token = live_api.token(Role.AP_CLERK)
    kind, message = await handshake(
        live_api, subprotocol="graphql-transport-ws", token=token, path=FINANCE
    )
    assert kind == "open"
    assert '"connection_ack"' in message


async def test_the_legacy_graphql_ws_protocol_is_not_served(live_api):
    token = live_api.token(Role.AP_CLERK)
    # strawberry closes with 4406: "Subprotocol not acceptable"
    assert await handshake(live_api, subprotocol="graphql-ws", token=token, path=FINANCE) == (
        "closed",
        4406,
    )


async def browser_handshake(api, offered: list[str]):
    """As a browser connects, to an AP clerk's endpoint: no headers of its own, the token
    offered as a subprotocol."""
    try:
        async with websockets.connect(url(api, FINANCE), subprotocols=offered) as ws:
            chosen = ws.subprotocol
            await ws.send('{"type": "connection_init"}')
            return "open", chosen, await ws.recv()
    except InvalidStatus as refused:
        return "http", None, refused.response.status_code
    except ConnectionClosed as closed:
        return "closed", None, closed.rcvd.code if closed.rcvd else None


async def test_a_browser_offers_its_token_as_a_subprotocol_and_only_graphql_transport_ws_is_chosen(
    live_api,
):
    token = live_api.token(Role.AP_CLERK)
    kind, chosen, message = await browser_handshake(
        live_api, ["graphql-transport-ws", f"apgraph.bearer.{token}"]
    )
    assert (kind, chosen) == ("open", "graphql-transport-ws")
    assert '"connection_ack"' in message


async def test_a_forged_or_expired_token_offered_as_a_subprotocol_is_refused(live_api):
    token = live_api.token(Role.AP_CLERK)
    expired = live_api.token(Role.AP_CLERK, lifetime=timedelta(seconds=-60))
    for offered in (token[:-4] + "AAAA", expired):
        kind, _, status = await browser_handshake(
            live_api, ["graphql-transport-ws", f"apgraph.bearer.{offered}"]
        )
        assert (kind, status) == ("http", 403)
