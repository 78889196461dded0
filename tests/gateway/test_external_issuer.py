"""Production mode: tokens from an external OpenID Connect issuer, here a second,
independent issuer started on loopback, with its own key and its own claim names.
"""

import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from apgraph.gateway.app import create_app
from apgraph.gateway.runtime import Runtime
from apgraph.policies.loader import load_gateway_config
from tests.conftest import settings_for
from tests.live_server import free_port, serving

ISSUER = "https://idp.hospital.example"
AUDIENCE = "apgraph-production"
SUPPLIER_CLAIM = "https://apgraph.example/supplier"


class Issuer:
    """An identity provider that publishes its JWKS and can be made to go down."""

    def __init__(self) -> None:
        self.keys = [ECKey.generate_key("P-256", parameters={"kid": "idp-1"}, private=True)]
        self.up = True
        self.port = free_port()

        async def jwks(request):
            if not self.up:
                return JSONResponse({"error": "down"}, status_code=503)
            return JSONResponse(KeySet(self.keys).as_dict(private=False))

        self.app = Starlette(routes=[Route("/jwks", jwks)])

    def token(self, *, key=None, **claims) -> str:
        key = key or self.keys[0]
        now = int(time.time())
        payload = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, **claims}
        return jwt.encode({"alg": "ES256", "kid": key.kid}, payload, key)


@pytest.fixture(scope="module")
def idp():
    issuer = Issuer()
    with serving(issuer.app, name="test issuer", port=issuer.port):
        yield issuer


@pytest.fixture
async def production_api(seeded_database, tmp_path, idp):
    settings = settings_for(
        seeded_database,
        tmp_path,
        environment="production",
        auth_mode="oidc",
        oidc_issuer=ISSUER,
        oidc_audience=AUDIENCE,
        oidc_jwks_url=f"http://127.0.0.1:{idp.port}/jwks",
        oidc_roles_claim="groups",
        oidc_supplier_claim=SUPPLIER_CLAIM,
    )
    config = load_gateway_config(settings.gateway_config)
    runtime = Runtime.open(settings, config)
    transport = httpx.ASGITransport(app=create_app(settings, config, runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://apgraph.test") as client:
        yield client
    await runtime.close()


SUPPLIER_PORTAL = "supplier-portal/v1"
FINANCE = "finance-ops/v1"


async def viewer(client, token, product):
    """The viewer, asked on the caller's own product (/graphql is for operators)."""
    return await client.post(
        f"/products/{product}/graphql",
        json={"query": "{ viewer { subject roles supplierId } }"},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_the_external_issuers_tokens_are_mapped_by_the_configured_claims(production_api, idp):
    token = idp.token(sub="jane@supplier", groups=["supplier"], **{SUPPLIER_CLAIM: "SUP-000002"})
    response = await viewer(production_api, token, SUPPLIER_PORTAL)
    assert response.json()["data"]["viewer"] == {
        "subject": "jane@supplier",
        "roles": ["supplier"],
        "supplierId": "SUP-000002",
    }


async def test_cached_keys_keep_working_while_the_jwks_is_down_and_unknown_keys_fail_closed(
    production_api, idp
):
    known = idp.token(sub="clerk", groups=["ap_clerk"])
    assert (await viewer(production_api, known, FINANCE)).status_code == 200  # keys now cached
    idp.up = False
    try:
        assert (await viewer(production_api, known, FINANCE)).status_code == 200
        stranger = ECKey.generate_key("P-256", parameters={"kid": "idp-2"}, private=True)
        refused = await viewer(
            production_api, idp.token(key=stranger, sub="x", groups=["ap_clerk"]), FINANCE
        )
        assert refused.status_code == 401
        assert "unknown key" in refused.headers["www-authenticate"]
    finally:
        idp.up = True


async def test_the_embedded_issuer_is_switched_off_in_production(production_api):
    assert (await production_api.post("/oauth/token", data={})).status_code == 404
    assert (await production_api.get("/.well-known/jwks.json")).status_code == 404
    ide = await production_api.get("/graphql", headers={"accept": "text/html"})
    assert ide.status_code == 401  # no GraphiQL outside dev mode, and no open door either
