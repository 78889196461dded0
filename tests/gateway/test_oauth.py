"""The embedded issuer's token endpoint (RFC 6749 §4.4), JWKS and discovery document."""

import asyncio
import json
import logging

import httpx
from joserfc.jwk import KeySet

from tests.conftest import ROOT
from tests.gateway import partners

SECRET = "s3cret-for-tests"
VIEWER = next(
    text
    for text in json.loads(
        (ROOT / "apgraph" / "policies" / "operations" / "partner-procurement.json").read_text()
    ).values()
    if text.startswith("query Viewer ")
)


async def ask(api, client_id, secret, **form):
    return await api.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", **form},
        auth=httpx.BasicAuth(client_id, secret),
    )


async def test_a_registered_client_gets_a_bearer_token_that_works(live_api):
    client = await partners.register(live_api, facilities=["FAC-0002"], secret=SECRET)
    response = await ask(live_api, client.client_id, SECRET, scope="invoices:read")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "invoices:read"
    assert body["expires_in"] == live_api.settings.token_lifetime_seconds
    # on the partner product, with the Viewer operation its allow-list ships with
    data = await live_api.data(VIEWER, token=body["access_token"], product="partner-procurement/v1")
    assert data["viewer"] == {
        "subject": client.client_id,
        "scopes": ["invoices:read"],
        "facilityIds": ["FAC-0002"],
    }


async def test_credentials_in_the_form_body_work_too(live_api):
    client = await partners.register(live_api, facilities=["FAC-0001"], secret=SECRET)
    response = await live_api.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": SECRET,
        },
    )
    assert response.status_code == 200


async def test_a_wrong_secret_and_an_unknown_client_are_the_same_invalid_client(live_api):
    client = await partners.register(live_api, facilities=["FAC-0001"], secret=SECRET)
    wrong = await ask(live_api, client.client_id, "guess")
    unknown = await ask(live_api, "cli_0000000000000000", "guess")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert response.headers["www-authenticate"] == 'Basic realm="apgraph"'
    assert wrong.json().keys() == unknown.json().keys()
    assert wrong.json()["error_description"] == unknown.json()["error_description"]


async def test_guessing_a_secret_is_stopped_after_five_tries_and_audited(live_api):
    client = await partners.register(live_api, facilities=["FAC-0001"], secret=SECRET)
    statuses = [(await ask(live_api, client.client_id, f"guess-{n}")).status_code for n in range(5)]
    locked = await ask(live_api, client.client_id, SECRET)  # even the right secret, from here
    assert statuses == [401] * 5
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    # audited per burst (one entry per reason) once the burst is over: six refusals in all
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        log = await live_api.data(
            'query($s: String) { auditLog(filter: {subject: $s, action: "token.refused"})'
            " { edges { node { detail } } } }",
            {"s": client.client_id},
        )
        details = [edge["node"]["detail"] for edge in log["auditLog"]["edges"]]
        if len(details) == 2:
            break
        assert asyncio.get_running_loop().time() < deadline, details
        await asyncio.sleep(0.1)
    assert sorted(detail.split()[0] for detail in details) == ["count=1", "count=5"]


async def test_a_scope_beyond_the_registration_is_invalid_scope(live_api):
    client = await partners.register(live_api, facilities=["FAC-0001"], secret=SECRET)
    response = await ask(live_api, client.client_id, SECRET, scope="invoices:read admin")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")


async def test_other_grants_are_unsupported(live_api):
    client = await partners.register(live_api, facilities=["FAC-0001"], secret=SECRET)
    response = await live_api.client.post(
        "/oauth/token", data={"grant_type": "password"}, auth=(client.client_id, SECRET)
    )
    assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")


async def test_a_revoked_client_gets_no_token(live_api):
    from datetime import UTC, datetime

    from apgraph.store.clients import ClientRepository
    from apgraph.store.database import create_engine

    client = await partners.register(live_api, facilities=["FAC-0001"], secret=SECRET)
    engine = create_engine(
        live_api.settings.resolved_database_url, schema=live_api.settings.database_schema
    )
    assert await ClientRepository(engine).revoke(client.client_id, at=datetime.now(UTC))
    await engine.dispose()
    response = await ask(live_api, client.client_id, SECRET)
    assert response.json()["error"] == "invalid_client"


async def test_the_secret_is_stored_hashed_and_never_logged(live_api, caplog):
    caplog.set_level(logging.DEBUG)
    client = await partners.register(live_api, facilities=["FAC-0001"], secret=SECRET)
    await ask(live_api, client.client_id, "a-wrong-secret-value")
    assert SECRET not in client.secret_hash
    assert client.secret_hash.startswith("scrypt$")
    assert "a-wrong-secret-value" not in caplog.text


async def test_the_jwks_publishes_public_keys_only_and_verifies_issued_tokens(live_api):
    jwks = (await live_api.client.get("/.well-known/jwks.json")).json()
    assert all("d" not in key and "p" not in key for key in jwks["keys"])
    keys = KeySet.import_key_set(jwks)
    from joserfc import jwt

    token = jwt.decode(live_api.admin, keys, algorithms=["RS256"])
    assert token.claims["sub"] == "finance.admin"


async def test_discovery_points_at_the_token_endpoint_and_jwks(live_api):
    document = (await live_api.client.get("/.well-known/openid-configuration")).json()
    assert document["token_endpoint"].endswith("/oauth/token")
    assert document["jwks_uri"].endswith("/.well-known/jwks.json")
    assert document["grant_types_supported"] == ["client_credentials"]
