"""Client secrets: generated random, stored as scrypt hashes (stdlib hashlib), compared in
constant time. The secret itself is shown once at creation and never stored or logged.
"""

import base64
import hashlib
import hmac
import os
import secrets

_N, _R, _P, _LENGTH = 2**14, 8, 1, 32  # scrypt cost: ~16 MiB and tens of ms per check


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=_LENGTH, maxmem=64 * 1024 * 1024
    )


def hash_secret(secret: str) -> str:
    salt = os.urandom(16)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(_scrypt(secret, salt, _N, _R, _P))}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(secret, _unb64(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(computed, _unb64(digest))


# Checked against when the client id is unknown, so "no such client" takes as long as
# "wrong secret" and timing does not reveal which client ids exist.
DECOY_HASH = hash_secret(new_secret())
