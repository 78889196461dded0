"""JWTs in and out, through joserfc (no hand-written crypto).

Verification checks, in order: an allowed algorithm (never `none`, never HS: no key
confusion), a known signing key, the signature, then `iss`, `aud`, `exp` and `nbf` with a
small leeway for clock skew. Anything off is an InvalidToken with a reason a client can act on.
"""

import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import httpx
from joserfc import jws, jwt
from joserfc.errors import (
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from apgraph.gateway.keys import ALGORITHM, SigningKeys
from apgraph.gateway.recent import Recent

log = logging.getLogger("apgraph.tokens")


class InvalidToken(Exception):
    """The token cannot be trusted; the message is safe to return to the caller."""


class KeySource(Protocol):
    async def keys_for(self, kid: str | None) -> KeySet:
        """The keys to verify with, refreshed first when `kid` is not among them."""
        ...


def _has_kid(keys: KeySet, kid: str | None) -> bool:
    if kid is None:
        return False
    try:
        keys.get_by_kid(kid)
    except InvalidKeyIdError:
        return False
    return True


class LocalKeys:
    """The embedded issuer's key file, re-read when `apgraph keys rotate` has changed it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.signing = SigningKeys.load_or_create(path)
        self._mtime = path.stat().st_mtime

    def reload_if_changed(self) -> None:
        mtime = self.path.stat().st_mtime
        if mtime != self._mtime:
            self.signing = SigningKeys.load(self.path)
            self._mtime = mtime

    async def keys_for(self, kid: str | None) -> KeySet:
        keys = self.signing.verification_keys()
        if _has_kid(keys, kid):
            return keys
        self.reload_if_changed()
        return self.signing.verification_keys()


@dataclass
class RemoteJwks:
    """An external issuer's JWKS, cached. When the JWKS endpoint is down, the cached keys keep
    working; a token with an unknown `kid` fails closed. Refetches at most every `min_interval`.
    """

    url: str
    client: httpx.AsyncClient
    min_interval: float = 30.0
    _keys: KeySet = field(default_factory=lambda: KeySet([]))
    _last_attempt: float = float("-inf")

    async def keys_for(self, kid: str | None) -> KeySet:
        if _has_kid(self._keys, kid):
            return self._keys
        if time.monotonic() - self._last_attempt >= self.min_interval:
            self._last_attempt = time.monotonic()
            try:
                response = await self.client.get(self.url, timeout=3.0)
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
            except (httpx.HTTPError, ValueError, JoseError) as error:
                log.warning("JWKS at %s unavailable, keeping cached keys: %s", self.url, error)
        return self._keys


VERIFIED_KEPT = 4096  # tokens whose signature a verifier remembers having checked


class VerifiedSignatures:
    """Tokens whose signature was checked, with the key that checked it: a client sends the
    same token on every request until it expires, and the signature check (base64, JSON and
    an RSA verification) was ~3 % of a portal page's CPU (issue 19). Keyed by the whole token,
    signature included, so a token that differs in any byte is checked afresh. Only what
    cannot change is kept: the claims are validated again on every use (expiry), and the key
    must still be the one the key source answers for its `kid` (a rotated-out or refetched key
    checks afresh). Bounded, least recently used first out; one event loop, no locks."""

    def __init__(self, kept: int = VERIFIED_KEPT) -> None:
        # token: (kid, the key that checked it, its claims as JSON: each use decodes its own
        # copy, so no caller can change what the signature vouched for)
        self._found: Recent[str, tuple[str, Any, str]] = Recent(kept)

    def claims_if_checked(self, token: str, keys: KeySet) -> dict[str, Any] | None:
        """The token's claims if its signature was checked with a key `keys` still holds."""
        found = self._found.get(token)
        if found is None:
            return None
        kid, key, claims = found
        try:
            if keys.get_by_kid(kid) is not key:
                return None
        except InvalidKeyIdError:
            return None
        answer: dict[str, Any] = json.loads(claims)
        return answer

    def checked(self, token: str, kid: str, key: Any, claims: dict[str, Any]) -> None:
        self._found.put(token, (kid, key, json.dumps(claims)))


@dataclass(frozen=True)
class TokenVerifier:
    keys: KeySource
    issuer: str
    audience: str
    algorithms: tuple[str, ...]
    leeway: int
    signatures: VerifiedSignatures = field(default_factory=VerifiedSignatures)

    async def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jws.extract_compact(token.encode("ascii")).protected
        except (JoseError, ValueError, UnicodeError):
            raise InvalidToken("the token is not a well-formed JWT") from None
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise InvalidToken(f"the token's algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        keys = await self.keys.keys_for(kid)
        if not isinstance(kid, str) or not _has_kid(keys, kid):
            raise InvalidToken("the token was signed by an unknown key")
        try:
            claims = self.signatures.claims_if_checked(token, keys)
            if claims is None:
                claims = jwt.decode(token, keys, algorithms=list(self.algorithms)).claims
                self.signatures.checked(token, kid, keys.get_by_kid(kid), claims)
            JWTClaimsRegistry(
                leeway=self.leeway,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(claims)
        except ExpiredTokenError:
            raise InvalidToken("the token has expired") from None
        except MissingClaimError as error:
            raise InvalidToken(f"the token lacks a required claim: {error.description}") from None
        except InvalidClaimError as error:
            raise InvalidToken(f"the token has an invalid claim: {error.description}") from None
        except JoseError as error:
            raise InvalidToken(f"the token cannot be verified: {error.error}") from None
        return claims


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class TokenIssuer:
    """Mints tokens for the embedded mode: the token endpoint and `apgraph token`."""

    keys: LocalKeys
    issuer: str
    audience: str
    lifetime: timedelta

    def issue(
        self,
        *,
        subject: str,
        now: datetime,
        claims: dict[str, Any],
        lifetime: timedelta | None = None,
    ) -> IssuedToken:
        self.keys.reload_if_changed()
        signing = self.keys.signing.active
        issued_at = int(now.timestamp())
        expires_in = int((lifetime or self.lifetime).total_seconds())
        payload = {
            **claims,
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + expires_in,
            "jti": secrets.token_urlsafe(16),
        }
        token = jwt.encode(
            {"alg": ALGORITHM, "kid": signing.kid, "typ": "JWT"}, payload, signing.key
        )
        return IssuedToken(token, expires_in, str(claims.get("scope", "")))
