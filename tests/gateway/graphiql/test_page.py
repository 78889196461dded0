"""GraphiQL's token from the attacker's side: only this machine gets one, and a weak one.

Over a real uvicorn server on loopback. A request from elsewhere arrives through a reverse
proxy on this machine that names the real client in X-Forwarded-For (uvicorn trusts it from
127.0.0.1, as deployed); a DNS-rebinding page arrives from loopback under a foreign Host.
"""

import re
from datetime import UTC, datetime

import httpx
import pytest
from joserfc import jwt

from apgraph.gateway.graphiql.page import READER_LIFETIME

HTML = {"accept": "text/html"}
FINANCE = "finance-ops/v1"  # the demo reader's product: its IDE signs the reader in
TOKEN = re.compile(r'"Authorization": "Bearer ([A-Za-z0-9_.-]+)"')


def ide_page(api, **headers: str) -> httpx.Response:
    base = str(api.client.base_url)
    response = httpx.get(f"{base}/products/{FINANCE}/graphql", headers={**HTML, **headers})
    assert response.status_code == 200
    return response


def embedded_token(page: httpx.Response) -> str | None:
    found = TOKEN.search(page.text)
    return found.group(1) if found else None


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"x-forwarded-for": "203.0.113.7"}, id="another-machine-via-proxy"),
        pytest.param({"x-forwarded-for": "10.1.2.3, 127.0.0.1"}, id="spoofed-loopback-hop"),
        pytest.param({"host": "evil.example"}, id="dns-rebinding"),
        pytest.param({"host": "127.0.0.1.evil.example:80"}, id="loopback-lookalike-host"),
    ],
)
def test_a_browser_not_on_this_machine_gets_the_page_without_a_token(live_api, headers):
    page = ide_page(live_api, **headers)

    assert embedded_token(page) is None
    assert "Bearer ey" not in page.text
    assert "Not signed in" in page.text


async def test_this_machine_gets_a_short_lived_read_only_token_and_is_told_who_it_is(live_api):
    page = ide_page(live_api)
    token = embedded_token(page)
    assert token is not None

    # the page names who it signs in as
    assert 'Signed in as <b id="subject">graphiql.demo</b>' in page.text
    # short-lived
    claims = jwt.decode(token, live_api.issuer.keys.signing.active.key).claims
    assert claims["exp"] - claims["iat"] == READER_LIFETIME.total_seconds() <= 15 * 60
    assert claims["exp"] > datetime.now(UTC).timestamp()
    # read-only: it reads every row the demo shows
    viewer = await live_api.data(
        "{ viewer { subject roles scopes } }", token=token, product=FINANCE
    )
    assert viewer["viewer"] == {
        "subject": "graphiql.demo",
        "roles": ["ap_clerk"],
        "scopes": ["invoices:read", "master-data:read", "payments:read", "suppliers:read"],
    }
    assert (await live_api.data("{ invoices { totalCount } }", token=token, product=FINANCE))[
        "invoices"
    ]["totalCount"] > 0


async def test_the_pages_token_cannot_read_bank_accounts_the_audit_trail_or_write(live_api):
    token = embedded_token(ide_page(live_api))

    account = await live_api.data(
        '{ supplier(id: "SUP-000001") { remitTo { accountNumber } } }',
        token=token,
        product=FINANCE,
    )
    assert re.fullmatch(r"•+\d{4}", account["supplier"]["remitTo"]["accountNumber"])
    audit = await live_api.graphql(
        "{ auditLog(first: 1) { totalCount } }", token=token, product=FINANCE
    )
    assert audit["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # operators' fields: not in the product's view, and /graphql refuses the reader
    operators = await live_api.graphql("{ connectors { system } }", token=token, product=FINANCE)
    assert operators["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    internal = await live_api.graphql("{ connectors { system } }", token=token)
    assert internal["errors"][0]["extensions"]["code"] == "OPERATORS_ONLY"
    approve = await live_api.graphql(
        'mutation { approveInvoice(invoiceId: "INV-00000001") { userErrors { code } } }',
        token=token,
        product=FINANCE,
    )
    assert approve["errors"][0]["extensions"]["code"] == "FORBIDDEN"
