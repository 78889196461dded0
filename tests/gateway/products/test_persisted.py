"""Persisted operations on the wire: the partner product runs only its allow-list; the
supplier portal lets clients register theirs (APQ); malformed ids are refused."""

import hashlib
import json
import uuid

from apgraph.domain.principal import Role
from apgraph.store.database import counting_statements
from tests.conftest import ROOT
from tests.gateway.partners import register, token_for
from tests.gateway.products.test_websocket import run_over_socket

PARTNER = "partner-procurement/v1"
PORTAL = "supplier-portal/v1"
LISTED = json.loads(
    (ROOT / "apgraph" / "policies" / "operations" / "partner-procurement.json").read_text()
)
VIEWER_ID, VIEWER = next((k, v) for k, v in LISTED.items() if "query Viewer" in v)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def send(api, product, body, token):
    with counting_statements() as count:
        response = await api.client.post(api.path(product), json=body, headers=api.headers(token))
    return response, count.statements


async def statements_to_authenticate(api, token) -> int:
    """What authenticating this token costs (a client's revocation check), measured on the
    SDL endpoint, which runs nothing else."""
    with counting_statements() as count:
        response = await api.client.get(
            f"/products/{PARTNER}/schema.graphql", headers=api.headers(token)
        )
    assert response.status_code == 200
    return count.statements


async def test_an_allow_listed_operation_runs_by_its_document_id(api, partner):
    response, _ = await send(api, PARTNER, {"documentId": VIEWER_ID}, partner)
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["subject"].startswith("cli_")


async def test_an_allow_listed_operation_runs_by_its_apq_hash(api, partner):
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": VIEWER_ID}}}
    response, _ = await send(api, PARTNER, body, partner)
    assert response.json()["data"]["viewer"]["scopes"]


async def test_the_exact_text_of_an_allow_listed_operation_runs(api, partner):
    response, _ = await send(api, PARTNER, {"query": VIEWER}, partner)
    assert "errors" not in response.json()


async def test_an_unknown_operation_is_refused_before_anything_runs(api, partner):
    # given what authenticating the partner alone costs in SQL
    authenticating = await statements_to_authenticate(api, partner)

    # when it sends an id that is not on the list, and a query of its own
    unknown, unknown_sql = await send(api, PARTNER, {"documentId": sha256("nope")}, partner)
    adhoc, adhoc_sql = await send(api, PARTNER, {"query": "{ suppliers { totalCount } }"}, partner)

    # then both are refused with their codes, and nothing but authentication touched SQL
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    assert adhoc.status_code == 403
    assert adhoc.json()["errors"][0]["extensions"]["code"] == "OPERATION_NOT_IN_ALLOW_LIST"
    assert unknown_sql == adhoc_sql == authenticating


async def test_malformed_extensions_are_refused_with_a_stable_code(api, partner):
    for body in (
        {"query": VIEWER, "extensions": "persisted"},
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": VIEWER_ID}}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ABC"}}},
        {"documentId": 42},
    ):
        response, _ = await send(api, PARTNER, body, partner)
        assert response.status_code == 400, body
        assert response.json()["errors"][0]["extensions"]["code"] == "MALFORMED_EXTENSIONS"


async def test_introspection_is_not_held_to_the_allow_list(api, partner):
    response, _ = await send(
        api, PARTNER, {"query": "{ __schema { queryType { name } } }"}, partner
    )
    assert response.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}


async def test_the_portal_registers_an_operation_by_apq(api, network):
    # given an operation the server has never seen
    supplier = api.token(Role.SUPPLIER, supplier_id=network.suppliers[0].id)
    query = f"query Mine{uuid.uuid4().hex[:8]} {{ viewer {{ supplierId }} }}"
    by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}}

    # when the client sends its hash, then (as Apollo's clients do) its text with the hash
    missing, missing_sql = await send(api, PORTAL, by_hash, supplier)
    registered, _ = await send(api, PORTAL, {**by_hash, "query": query}, supplier)
    again, _ = await send(api, PORTAL, by_hash, supplier)

    # then the first is PERSISTED_QUERY_NOT_FOUND, and the hash alone works once registered
    assert missing.status_code == 200
    assert missing.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert missing_sql == 0
    assert (
        registered.json()["data"]
        == again.json()["data"]
        == {"viewer": {"supplierId": network.suppliers[0].id}}
    )


async def test_a_hash_that_is_not_the_querys_is_refused(api, network):
    supplier = api.token(Role.SUPPLIER, supplier_id=network.suppliers[0].id)
    body = {
        "query": "{ viewer { subject } }",
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256("another")}},
    }
    response, statements = await send(api, PORTAL, body, supplier)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    assert statements == 0


async def test_the_allow_list_holds_over_websocket_too(live_api):
    client = await register(live_api, facilities=["FAC-0001"])
    token = token_for(live_api, client)

    listed = await run_over_socket(live_api, PARTNER, token, VIEWER)
    adhoc = await run_over_socket(live_api, PARTNER, token, "{ suppliers { totalCount } }")

    assert listed[1]["data"]["viewer"]["subject"] == client.client_id
    assert adhoc[1]["data"] is None
    assert adhoc[1]["errors"][0]["extensions"]["code"] == "OPERATION_NOT_IN_ALLOW_LIST"
