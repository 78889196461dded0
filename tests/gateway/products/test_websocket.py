"""Product endpoints over WebSocket (graphql-transport-ws): the same view, the same gates."""

import json

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from apgraph.domain.principal import Role


def url(api, product: str) -> str:
    return str(api.client.base_url).replace("http://", "ws://") + api.path(product)


async def run_over_socket(api, product: str, token: str, query: str) -> tuple[str, object]:
    """('payload', the result), ('closed', code) or ('http', status)."""
    try:
        async with websockets.connect(
            url(api, product),
            subprotocols=["graphql-transport-ws"],
            additional_headers={"Authorization": f"Bearer {token}"},
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
            return "payload", json.loads(await ws.recv())["payload"]
    except InvalidStatus as refused:
        return "http", refused.response.status_code
    except ConnectionClosed as closed:
        return "closed", closed.rcvd.code if closed.rcvd else None


async def test_a_product_answers_over_websocket_within_its_view(live_api):
    supplier = live_api.token(Role.SUPPLIER, supplier_id="SUP-000001")

    served = await run_over_socket(
        live_api, "supplier-portal/v1", supplier, "{ viewer { supplierId } }"
    )
    hidden = await run_over_socket(
        live_api, "supplier-portal/v1", supplier, "{ auditLog { totalCount } }"
    )

    assert served[1]["data"] == {"viewer": {"supplierId": "SUP-000001"}}
    kind, payload = hidden
    assert kind == "payload"
    assert payload[0]["message"] == "Cannot query field 'auditLog' on type 'Query'."
    assert payload[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"  # as over HTTP


async def test_a_role_the_product_does_not_admit_cannot_open_a_socket(live_api):
    supplier = live_api.token(Role.SUPPLIER, supplier_id="SUP-000001")
    kind, code = await run_over_socket(
        live_api, "finance-ops/v1", supplier, "{ viewer { subject } }"
    )
    assert (kind, code) == ("http", 403)  # closed before accepting: the handshake is refused


async def test_a_subscription_outside_the_view_fails_validation_over_the_socket(live_api):
    # given a supplier on the portal, whose view has invoice and payment status only
    supplier = live_api.token(Role.SUPPLIER, supplier_id="SUP-000001")
    sdl = await live_api.client.get(
        "/products/supplier-portal/v1/schema.graphql", headers=live_api.headers(supplier)
    )
    assert "invoiceStatusChanged" in sdl.text
    assert "exceptionQueueChanged" not in sdl.text

    # when it subscribes to an exception queue
    kind, payload = await run_over_socket(
        live_api,
        "supplier-portal/v1",
        supplier,
        'subscription { exceptionQueueChanged(facilityId: "FAC-0001") { cursor } }',
    )

    # then it fails validation like any unknown field
    assert kind == "payload"
    assert (
        payload[0]["message"]
        == "Cannot query field 'exceptionQueueChanged' on type 'Subscription'."
    )
    assert payload[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
