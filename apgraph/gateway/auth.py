"""Who is calling: a verified bearer token turned into a Principal, or a clear refusal.

The claims a token must carry follow from its roles (gateway.yaml `access.roles`): a
supplier user needs its supplier, an approver or partner its facilities. A token's `scope`
narrows what its roles grant and never widens it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import Headers

from apgraph.domain import ids
from apgraph.domain.principal import Principal, Role
from apgraph.gateway.tokens import InvalidToken, TokenVerifier
from apgraph.policies.access import AccessPolicy, RowAccess
from apgraph.store.clients import ClientRepository


class AuthenticationFailed(Exception):
    """401. `error` is RFC 6750's code, None when no credentials were offered at all."""

    def __init__(self, description: str, *, error: str | None = "invalid_token") -> None:
        super().__init__(description)
        self.description = description
        self.error = error

    @property
    def www_authenticate(self) -> str:
        if self.error is None:
            return 'Bearer realm="apgraph"'
        quoted = self.description.replace('"', "'")
        return f'Bearer realm="apgraph", error="{self.error}", error_description="{quoted}"'


@dataclass(frozen=True, slots=True)
class ClaimNames:
    """Where an issuer puts what we need; configurable for external OpenID Connect issuers."""

    roles: str = "roles"
    scope: str = "scope"
    supplier: str = "supplier_id"
    facilities: str = "facility_ids"
    client: str = "client_id"


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise InvalidToken("a claim that should hold strings holds something else")


def _expiry(exp: Any) -> datetime | None:
    """The verifier has required `exp` already; a missing one (tests' hand-built claims) is
    no expiry rather than a crash."""
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return datetime.fromtimestamp(exp, UTC)
    return None


def _roles(names: Iterable[str]) -> frozenset[Role]:
    known = {role.value: role for role in Role}
    return frozenset(known[name] for name in names if name in known)


@dataclass(frozen=True)
class Authenticator:
    verifier: TokenVerifier
    policy: AccessPolicy
    claim_names: ClaimNames
    clients: ClientRepository | None  # set when we issue client tokens: revocation is checked

    async def authenticate(self, headers: Headers) -> Principal:
        header = headers.get("authorization")
        if not header:
            raise AuthenticationFailed("a bearer token is required", error=None)
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
            raise AuthenticationFailed(
                "the Authorization header must read 'Bearer <token>'", error="invalid_request"
            )
        try:
            claims = await self.verifier.verify(token.strip())
            return await self.principal_from(claims)
        except InvalidToken as error:
            raise AuthenticationFailed(str(error)) from None

    async def principal_from(self, claims: dict[str, Any]) -> Principal:
        names = self.claim_names
        roles = _roles(_strings(claims.get(names.roles)))
        if not roles:
            raise InvalidToken("the token names no role this server knows")
        granted = self.policy.scopes_of(roles)
        asked = claims.get(names.scope)
        scopes = granted if asked is None else granted & frozenset(_strings(asked))
        rows = {self.policy.roles[role].rows for role in roles if role in self.policy.roles}
        client_id = claims.get(names.client)
        if Role.PARTNER in roles and client_id is None and self.clients is not None:
            raise InvalidToken("a partner token must name its registered client")
        facility_ids = None
        if RowAccess.FACILITIES in rows:
            facility_ids = frozenset(
                self._ids(ids.facility, _strings(claims.get(names.facilities)))
            )
        if client_id is not None and self.clients is not None:
            client = await self.clients.get(str(client_id))
            if client is None or not client.active:
                raise InvalidToken("the client this token was issued to has been revoked")
            scopes &= client.scopes
            facility_ids = frozenset(ids.facility(f) for f in client.facility_ids)
        supplier_id = None
        if RowAccess.SUPPLIER in rows:
            raw = claims.get(names.supplier)
            if not isinstance(raw, str):
                raise InvalidToken(f"a supplier user's token needs the {names.supplier} claim")
            supplier_id = self._ids(ids.supplier, [raw])[0]
        return Principal(
            subject=str(claims["sub"]),
            roles=roles,
            scopes=scopes,
            supplier_id=supplier_id,
            facility_ids=facility_ids,
            client_id=str(client_id) if client_id is not None else None,
            expires_at=_expiry(claims.get("exp")),
        )

    @staticmethod
    def _ids(parse: Any, raw: list[str]) -> list[Any]:
        try:
            return [parse(value) for value in raw]
        except ids.InvalidId as error:
            raise InvalidToken(f"the token carries a malformed id: {error}") from None
