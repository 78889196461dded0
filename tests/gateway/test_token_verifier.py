"""A verifier checks a token's signature once and remembers it (issue 19), but never trusts
the memory further than the signature itself: the claims are validated on every use, a
token that differs in any byte is checked afresh, and so is one whose `kid` now names
another key."""

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from apgraph.gateway.tokens import InvalidToken, TokenVerifier, VerifiedSignatures

ISSUER, AUDIENCE = "https://apgraph.test", "apgraph"


class FixedKeys:
    """A key source that answers whatever key set the test gives it (as an external
    issuer's JWKS answers after a refetch)."""

    def __init__(self, keys: KeySet) -> None:
        self.keys = keys

    async def keys_for(self, kid: str | None) -> KeySet:
        return self.keys


def new_key(kid: str = "k1") -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid}, private=True)


def signed(key: RSAKey, *, expires_in: int = 600, **extra: Any) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "ana", "iat": now, "exp": now + expires_in}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, {**claims, **extra}, key)


def verifier(keys: FixedKeys, signatures: VerifiedSignatures, *, leeway: int = 0) -> TokenVerifier:
    return TokenVerifier(keys, ISSUER, AUDIENCE, ("RS256",), leeway, signatures)


async def test_a_token_verified_again_answers_the_same_claims_each_time_as_a_copy() -> None:
    # given a verifier and a token it has verified
    key = new_key()
    checks = verifier(FixedKeys(KeySet([key])), VerifiedSignatures())
    token = signed(key, roles=["auditor"])
    first = await checks.verify(token)

    # when a caller changes its answer, and the token is verified again
    first["roles"].append("finance_admin")
    first["sub"] = "someone else"
    again = await checks.verify(token)

    # then the second answer is the token's own claims, untouched
    assert again["sub"] == "ana"
    assert again["roles"] == ["auditor"]


async def test_a_remembered_token_with_another_signature_is_refused() -> None:
    # given a verified token
    key = new_key()
    checks = verifier(FixedKeys(KeySet([key])), VerifiedSignatures())
    token = signed(key)
    await checks.verify(token)

    # when its header and payload come with a signature by a stranger's key
    header, payload, _ = token.split(".")
    _, _, stranger = signed(new_key(key.kid)).split(".")
    forged = f"{header}.{payload}.{stranger}"

    # then it is refused: the memory is of the exact token, signature included
    with pytest.raises(InvalidToken, match="cannot be verified"):
        await checks.verify(forged)


async def test_a_remembered_token_whose_kid_now_names_another_key_is_checked_again() -> None:
    # given a token verified with the key its kid named
    key = new_key("k1")
    keys = FixedKeys(KeySet([key]))
    checks = verifier(keys, VerifiedSignatures())
    token = signed(key)
    await checks.verify(token)

    # when the key source now answers another key under that kid (a refetched JWKS)
    keys.keys = KeySet([new_key("k1")])

    # then the token is checked against that key, and fails
    with pytest.raises(InvalidToken, match="cannot be verified"):
        await checks.verify(token)


async def test_a_remembered_token_is_refused_once_its_claims_no_longer_pass() -> None:
    # given a token that expired a minute ago, accepted under a two-minute clock-skew leeway
    key = new_key()
    keys = FixedKeys(KeySet([key]))
    signatures = VerifiedSignatures()
    token = signed(key, expires_in=-60)
    assert (await verifier(keys, signatures, leeway=120).verify(token))["sub"] == "ana"

    # when a verifier that remembers the same signatures allows no leeway
    strict = verifier(keys, signatures, leeway=0)

    # then the remembered token is refused as expired: its claims are validated every time
    with pytest.raises(InvalidToken, match="expired"):
        await strict.verify(token)


async def test_the_memory_keeps_only_the_most_recently_used_tokens() -> None:
    # given a memory of two tokens and three verified tokens, the first used again last
    key = new_key()
    signatures = VerifiedSignatures(kept=2)
    checks = verifier(FixedKeys(KeySet([key])), signatures)
    first, second, third = (signed(key, n=n) for n in range(3))
    for token in (first, second, first, third):
        await checks.verify(token)

    # then the least recently used (the second) was let go, the others are remembered
    keys = KeySet([key])
    assert signatures.claims_if_checked(first, keys) is not None
    assert signatures.claims_if_checked(second, keys) is None
    assert signatures.claims_if_checked(third, keys) is not None
