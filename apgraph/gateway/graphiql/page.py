"""The GraphiQL page and its assets, from the package: it works with no network at all.

The page is signed in with a short-lived, read-only demo token, and only for a browser on
this machine: a request from another address (directly, or through a proxy that says so
with X-Forwarded-For) or for another host name (DNS rebinding: a web page renaming its own
host to 127.0.0.1) gets the page without a token.
"""

import base64
import hashlib
import html
import ipaddress
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from apgraph.gateway.graphiql.examples import EXAMPLES
from apgraph.gateway.tokens import TokenIssuer

ASSETS_PATH = "/graphiql/assets"
# The demo reader: the AP clerk's view of every row, narrowed by the token's `scope` claim
# to reading. It runs every read example of the page and the README, yet cannot write,
# approve, import, read bank account numbers in full, the audit trail or operator data.
READER_SUBJECT = "graphiql.demo"
READER_ROLE = "ap_clerk"
READER_SCOPES = ("suppliers:read", "invoices:read", "payments:read", "master-data:read")
READER_LIFETIME = timedelta(minutes=15)
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


class AssetIntegrityError(RuntimeError):
    """A vendored file does not match SHA256SUMS: never serve it."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    subject: str
    role: str
    scopes: tuple[str, ...]
    expires: datetime
    token: str


def _assets() -> resources.abc.Traversable:
    return resources.files("apgraph.gateway.graphiql").joinpath("assets")


@cache
def manifest() -> dict[str, str]:
    """File name → sha256 (hex), from SHA256SUMS (the format `sha256sum -c` checks)."""
    lines = _assets().joinpath("SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {name.strip(): digest for digest, name in (line.split(maxsplit=1) for line in lines)}


@cache
def asset(name: str) -> bytes:
    """A vendored file, checked against the manifest before it is ever served."""
    expected = manifest()[name]
    data = _assets().joinpath(name).read_bytes()
    if hashlib.sha256(data).hexdigest() != expected:
        raise AssetIntegrityError(f"graphiql asset {name} does not match SHA256SUMS")
    return data


def subresource_integrity(name: str) -> str:
    """The `integrity` attribute the browser checks the file against."""
    return "sha256-" + base64.b64encode(bytes.fromhex(manifest()[name])).decode()


async def asset_endpoint(request: Request) -> Response:
    name = request.path_params["name"]
    content_type = next(
        (kind for suffix, kind in CONTENT_TYPES.items() if name.endswith(suffix)), None
    )
    if name not in manifest() or content_type is None:
        return PlainTextResponse("not found", status_code=404)
    return Response(
        asset(name),
        media_type=content_type,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


def is_loopback_host(host: str) -> bool:
    """Is `host` (an interface to listen on) this machine only?"""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def from_this_machine(request: Request) -> bool:
    """Did the request come from this machine, for this machine's name? Both, or no token."""
    client = request.client.host if request.client else ""
    host = request.url.hostname or ""
    return is_loopback_host(client) and is_loopback_host(host.strip("[]"))


def reader_token(issuer: TokenIssuer, now: datetime) -> SignedIn:
    issued = issuer.issue(
        subject=READER_SUBJECT,
        now=now,
        claims={"roles": [READER_ROLE], "scope": " ".join(READER_SCOPES)},
        lifetime=READER_LIFETIME,
    )
    return SignedIn(
        subject=READER_SUBJECT,
        role=READER_ROLE,
        scopes=READER_SCOPES,
        expires=now + READER_LIFETIME,
        token=issued.access_token,
    )


def _banner(signed_in: SignedIn | None, product_ide: str | None) -> str:
    other_roles = (
        "Other roles: <code>apgraph token --role supplier|ap_clerk|approver|finance_admin|"
        "auditor</code>, then <code>Authorization: Bearer …</code> in Headers."
    )
    if product_ide is not None:
        link = html.escape(product_ide)
        return (
            "This is <code>/graphql</code>, the operators' internal schema (admin scope): put "
            "an operator's <code>Authorization: Bearer …</code> in Headers. Everyone else, the "
            f'demo reader ({READER_ROLE}) included, uses its product: <a id="product-ide" '
            f'href="{link}">{link}</a>.'
        )
    if signed_in is None:
        return (
            "Not signed in: this page carries a token only to a browser on the server's own "
            "machine. Put <code>Authorization: Bearer …</code> in Headers. " + other_roles
        )
    return (
        f'Signed in as <b id="subject">{html.escape(signed_in.subject)}</b> '
        f"({html.escape(signed_in.role)}, read-only: {html.escape(', '.join(signed_in.scopes))})"
        f" until {signed_in.expires:%H:%M} UTC; reload the page for a fresh token. " + other_roles
    )


@cache
def _template() -> str:
    return resources.files("apgraph.gateway.graphiql").joinpath("page.html").read_text("utf-8")


def page(signed_in: SignedIn | None, *, product_ide: str | None = None) -> HTMLResponse:
    """The page; with `signed_in`, its fetcher sends that token with every operation.
    `product_ide`: this is the operators' /graphql, and the demo reader's product IDE is
    there (the page then carries no token: the reader would be refused here)."""
    if product_ide is not None:
        signed_in = None
    nonce = secrets.token_urlsafe(16)
    headers = {"Authorization": f"Bearer {signed_in.token}"} if signed_in else {}
    config = {"headers": headers, "tabs": [example.tab() for example in EXAMPLES]}
    # inside <script>: no "</script>" can close it early
    config_json = json.dumps(config).replace("<", "\\u003c")
    text = _template()
    for name in manifest():
        text = text.replace(f"__SRI_{name}__", subresource_integrity(name))
    text = (
        text.replace("__ASSETS__", ASSETS_PATH)
        .replace("__NONCE__", nonce)
        .replace("__BANNER_CLASS__", "signed-in" if signed_in else "anonymous")
        .replace("__BANNER__", _banner(signed_in, product_ide))
        .replace("__CONFIG__", config_json)
    )
    policy = (
        "default-src 'none'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'unsafe-inline'; "  # GraphiQL sets element styles
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(
        text,
        headers={
            "Content-Security-Policy": policy,
            "Cache-Control": "no-store",  # it carries a token
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )
