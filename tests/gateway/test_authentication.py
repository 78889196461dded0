"""Bearer tokens from the attacker's side, over real HTTP: every way a token can be wrong
is refused with 401 and an RFC 6750 WWW-Authenticate header, and nothing is answered.
"""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from apgraph.domain.principal import Role

QUERY = {"query": "{ viewer { subject } invoices(first: 1) { totalCount } }"}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def claims(api, **overrides):
    now = int(time.time())
    base = {
        "iss": api.settings.token_issuer,
        "aud": api.settings.token_audience,
        "sub": "finance.admin",
        "roles": ["finance_admin"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    return {key: value for key, value in {**base, **overrides}.items() if value is not None}


def signed(api, payload, *, key=None, kid=None):
    active = api.issuer.keys.signing.active
    header = {"alg": "RS256", "kid": kid or active.kid, "typ": "JWT"}
    return jwt.encode(header, payload, key or active.key)


async def refused(api, token, *, reason):
    response = await api.client.post(
        "/graphql", json=QUERY, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert response.json()["data"] is None
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="apgraph", error="invalid_token"')
    assert reason in challenge, challenge


async def test_a_valid_token_is_accepted(live_api):
    response = await live_api.client.post(
        "/graphql",
        json=QUERY,
        headers={"Authorization": f"Bearer {signed(live_api, claims(live_api))}"},
    )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"] == {"subject": "finance.admin"}


async def test_no_token_is_401_with_a_bare_challenge(live_api):
    response = await live_api.client.post("/graphql", json=QUERY)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="apgraph"'


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Bearer", "Bearer a b", "token"])
async def test_a_malformed_authorization_header_is_invalid_request(live_api, header):
    response = await live_api.client.post("/graphql", json=QUERY, headers={"Authorization": header})
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["www-authenticate"]


async def test_garbage_is_not_a_jwt(live_api):
    await refused(live_api, "not.a.jwt", reason="not a well-formed JWT")


async def test_an_expired_token_is_refused(live_api):
    past = int(time.time()) - 3600
    token = signed(live_api, claims(live_api, iat=past, nbf=past, exp=past + 60))
    await refused(live_api, token, reason="expired")


async def test_a_token_within_the_clock_skew_leeway_is_still_accepted(live_api):
    just_expired = int(time.time()) - 5  # the leeway is 30 s
    token = signed(live_api, claims(live_api, exp=just_expired))
    response = await live_api.client.post(
        "/graphql", json=QUERY, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


async def test_a_not_yet_valid_token_is_refused(live_api):
    token = signed(live_api, claims(live_api, nbf=int(time.time()) + 3600))
    await refused(live_api, token, reason="not yet valid")


async def test_a_wrong_audience_is_refused(live_api):
    await refused(live_api, signed(live_api, claims(live_api, aud="other-api")), reason="aud")


async def test_a_wrong_issuer_is_refused(live_api):
    token = signed(live_api, claims(live_api, iss="https://evil.example"))
    await refused(live_api, token, reason="iss")


async def test_alg_none_is_refused(live_api):
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims(live_api)).encode())
    await refused(live_api, f"{header}.{payload}.", reason="algorithm")


async def test_a_tampered_payload_is_refused(live_api):
    # given a real supplier token, edited to claim the finance admin role
    token = live_api.token(Role.SUPPLIER, supplier_id="SUP-000001")
    header, payload, signature = token.split(".")
    content = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    content["roles"] = ["finance_admin"]
    forged = f"{header}.{b64(json.dumps(content).encode())}.{signature}"
    await refused(live_api, forged, reason="cannot be verified")


async def test_a_key_we_never_published_is_refused(live_api):
    stranger = RSAKey.generate_key(2048, parameters={"kid": "stranger"}, private=True)
    token = signed(live_api, claims(live_api), key=stranger, kid="stranger")
    await refused(live_api, token, reason="unknown key")


async def test_a_stranger_key_claiming_our_kid_fails_its_signature(live_api):
    stranger = RSAKey.generate_key(2048, private=True)
    token = signed(live_api, claims(live_api), key=stranger)
    await refused(live_api, token, reason="cannot be verified")


async def test_hs256_signed_with_our_public_key_is_refused(live_api):
    # the classic key confusion: HMAC keyed with the RS256 public key
    public_pem = live_api.issuer.keys.signing.active.key.as_pem(private=False)
    header = b64(
        json.dumps(
            {"alg": "HS256", "typ": "JWT", "kid": live_api.issuer.keys.signing.active.kid}
        ).encode()
    )
    payload = b64(json.dumps(claims(live_api)).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    await refused(live_api, f"{header}.{payload}.{b64(signature)}", reason="algorithm")


async def test_a_token_with_no_known_role_is_refused(live_api):
    await refused(live_api, signed(live_api, claims(live_api, roles=["root"])), reason="no role")


async def test_a_supplier_token_without_its_supplier_is_refused(live_api):
    token = signed(live_api, claims(live_api, roles=["supplier"], sub="portal.x"))
    await refused(live_api, token, reason="supplier_id")


async def test_a_scope_claim_narrows_a_role_and_never_widens_it(live_api):
    # a supplier asking for audit:read and bank details gets neither
    token = signed(
        live_api,
        claims(
            live_api,
            roles=["supplier"],
            supplier_id="SUP-000001",
            sub="portal.sup-000001",
            scope="invoices:read audit:read suppliers:bank:read",
        ),
    )
    data = await live_api.data("{ viewer { scopes } }", token=token, product="supplier-portal/v1")
    assert data["viewer"]["scopes"] == ["invoices:read"]


async def test_a_missing_scope_is_forbidden_and_audited(live_api):
    # a clerk (no audit:read) asks finance-ops, whose view has the audit log, for it
    token = live_api.issuer.issue(
        subject="clerk.snoop", now=datetime.now(UTC), claims={"roles": ["ap_clerk"]}
    ).access_token
    body = await live_api.graphql(
        "query Snoop { auditLog(first: 1) { totalCount } viewer { subject } }",
        token=token,
        product="finance-ops/v1",
    )
    assert body["data"] == {"auditLog": None, "viewer": {"subject": "clerk.snoop"}}
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["auditLog"]
    log = await live_api.data(
        '{ auditLog(filter: {action: "access.denied", subject: "clerk.snoop"}, first: 1)'
        " { edges { node { outcome detail traceId } } } }"
    )
    (entry,) = [edge["node"] for edge in log["auditLog"]["edges"]]
    assert entry["outcome"] == "DENIED"
    assert entry["detail"] == "Snoop: Query.auditLog"


async def test_a_nested_field_of_another_domain_needs_its_own_scope(live_api, network):
    # a partner may read invoices but not payments: the payment on an invoice is refused too
    from tests.gateway.test_attacks import UNKNOWN  # noqa: F401 - same module family

    invoice = next(a.invoice_id for a in network.payment_allocations)
    token = signed(
        live_api,
        claims(live_api, roles=["ap_clerk"], sub="clerk.narrow", scope="invoices:read"),
    )
    body = await live_api.graphql(
        "query($id: ID!) { invoice(id: $id) { id payment { id } } }",
        {"id": invoice},
        token=token,
        product="finance-ops/v1",
    )
    assert body["data"] == {"invoice": {"id": invoice, "payment": None}}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["invoice", "payment"]
