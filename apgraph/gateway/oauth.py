"""The embedded issuer: an OAuth2 token endpoint for the client-credentials grant
(RFC 6749 §4.4), its JWKS, and the discovery document that points at both.
"""

import base64
import binascii
import logging
import time
from urllib.parse import unquote

from anyio import CapacityLimiter, to_thread
from sqlalchemy.exc import OperationalError
from starlette.requests import Request
from starlette.responses import JSONResponse

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.domain.clients import Client
from apgraph.domain.principal import Role
from apgraph.gateway.client_secrets import DECOY_HASH, verify_secret
from apgraph.gateway.runtime import Runtime
from apgraph.gateway.tokens import TokenIssuer

log = logging.getLogger("apgraph.oauth")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BUSY_RETRY_AFTER_SECONDS = 1
_SCRYPT_SLOTS = CapacityLimiter(2)  # each check takes ~16 MiB and tens of ms of one core


def _issuer(runtime: Runtime) -> TokenIssuer:
    """These routes are mounted only in embedded mode, where the issuer exists."""
    if runtime.issuer is None:
        raise RuntimeError("the embedded issuer's routes are served without an embedded issuer")
    return runtime.issuer


def _error(
    status: int,
    error: str,
    description: str,
    headers: dict[str, str] | None = None,
    *,
    refusal_id: str | None = None,
) -> JSONResponse:
    """An RFC 6749 §5.2 error; `refusal_id` names the refusal in the log and the audit trail."""
    body = {"error": error, "error_description": description}
    if refusal_id is not None:
        body["refusal_id"] = refusal_id
    return JSONResponse(
        body,
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )


def _refused(
    runtime: Runtime, client_id: str, client: Client | None, source: str, reason: str
) -> str:
    """Counts a refusal into its audited burst (refusals.py); returns the refusal's id."""
    return runtime.token_refusals.refused(
        client_id=client_id,
        registered=client is not None,
        source=source,
        reason=reason,
        at=runtime.clock.now(),
    )


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, separator, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if separator else None


async def token_endpoint(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return _error(
            400, "invalid_request", "send the request as application/x-www-form-urlencoded"
        )
    form = await request.form()
    basic = _basic_credentials(request.headers.get("authorization"))
    client_id, secret = basic or (
        str(form.get("client_id", "")),
        str(form.get("client_secret", "")),
    )
    if form.get("grant_type") != "client_credentials":
        return _error(
            400, "unsupported_grant_type", "only grant_type=client_credentials is offered"
        )
    if not client_id or not secret:
        return _error(
            401,
            "invalid_client",
            "client authentication is required",
            {"WWW-Authenticate": 'Basic realm="apgraph"'},
        )

    source = request.client.host if request.client else "unknown"
    throttle = runtime.token_throttle
    async with throttle.one_at_a_time(source):
        throttled = throttle.admit(client_id, source, now=time.time())
        client = await runtime.clients.get(client_id)
        if throttled is not None:
            refusal = _refused(runtime, client_id, client, source, throttled.refusal.value)
            return _error(
                429,
                "invalid_client",
                "too many failed attempts; try again later",
                {"Retry-After": str(throttled.retry_after)},
                refusal_id=refusal,
            )
        # scrypt off the event loop, a few at a time: other requests go on meanwhile
        hashed = client.secret_hash if client else DECOY_HASH
        valid = await to_thread.run_sync(verify_secret, secret, hashed, limiter=_SCRYPT_SLOTS)
        if client is None or not valid or not client.active:
            throttle.failed(client_id, source)
            refusal = _refused(runtime, client_id, client, source, "client authentication failed")
            return _error(
                401,
                "invalid_client",
                "unknown client, wrong secret, or revoked client",
                {"WWW-Authenticate": 'Basic realm="apgraph"'},
                refusal_id=refusal,
            )
        throttle.succeeded(client_id, source)

    allowed = client.scopes & runtime.config.access.scopes_of(frozenset({Role.PARTNER}))
    requested = str(form.get("scope", "")).split()
    if not set(requested) <= allowed:
        return _error(
            400,
            "invalid_scope",
            f"this client may ask for: {' '.join(sorted(allowed)) or '(nothing)'}",
        )
    scope = " ".join(sorted(requested or allowed))
    now = runtime.clock.now()
    issued = _issuer(runtime).issue(
        subject=client.client_id, now=now, claims=client_claims(client, scope)
    )
    try:
        await runtime.audit.record(
            [
                AuditEvent(
                    client.client_id,
                    "token.issued",
                    AuditOutcome.SUCCEEDED,
                    client_id=client.client_id,
                    detail=f"scope={scope}",
                )
            ],
            at=now,
        )
    except OperationalError as error:
        # e.g. SQLite's one write lock held past its busy timeout: a token not audited is not
        # handed out, and the client is told to come back, not that the server broke
        log.warning("token for %s not issued, audit trail busy: %s", client.client_id, error)
        return _error(
            503,
            "temporarily_unavailable",
            "the server is busy; try again shortly",
            {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
        )
    return JSONResponse(
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": scope,
        },
        headers=NO_STORE,
    )


def client_claims(client: Client, scope: str) -> dict[str, object]:
    """What a partner client's token says about it; checked against the registry on use."""
    return {
        "roles": [Role.PARTNER.value],
        "scope": scope,
        "client_id": client.client_id,
        "facility_ids": sorted(client.facility_ids),
        "product": client.product,
    }


async def jwks(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    keys = _issuer(runtime).keys
    keys.reload_if_changed()
    return JSONResponse(keys.signing.public_jwks())


async def discovery(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    base = str(request.base_url).rstrip("/")
    return JSONResponse(
        {
            "issuer": runtime.settings.token_issuer,
            "token_endpoint": f"{base}/oauth/token",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": sorted(runtime.config.access.scopes_of(frozenset({Role.PARTNER}))),
        }
    )
