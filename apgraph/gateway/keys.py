"""The embedded issuer's signing keys, kept in the data directory.

The newest key signs; older keys stay published in the JWKS until every token they signed
has expired, so `apgraph keys rotate` never logs anybody out.
"""

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet, RSAKey

ALGORITHM = "RS256"
KEY_BITS = 2048


@dataclass(frozen=True, slots=True)
class SigningKey:
    key: RSAKey
    created_at: datetime
    retired_at: datetime | None  # when a newer key took over signing

    @property
    def kid(self) -> str:
        return str(self.key.kid)


def _new_key(now: datetime) -> SigningKey:
    kid = f"{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"
    key = RSAKey.generate_key(
        KEY_BITS, parameters={"kid": kid, "use": "sig", "alg": ALGORITHM}, private=True
    )
    return SigningKey(key=key, created_at=now, retired_at=None)


class SigningKeys:
    """Keys as a file of private JWKs (mode 0600). Not a secret store: use a KMS in production."""

    def __init__(self, path: Path, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("a key file holds at least one key")
        self.path = path
        self.keys = keys

    @property
    def active(self) -> SigningKey:
        return self.keys[-1]

    def public_jwks(self) -> dict[str, Any]:
        return dict(KeySet([k.key for k in self.keys]).as_dict(private=False))

    def verification_keys(self) -> KeySet:
        return KeySet([k.key for k in self.keys])

    @classmethod
    def load_or_create(cls, path: Path, *, now: datetime | None = None) -> "SigningKeys":
        if path.exists():
            return cls.load(path)
        keys = cls(path, [_new_key(now or datetime.now(UTC))])
        keys.save()
        return keys

    @classmethod
    def load(cls, path: Path) -> "SigningKeys":
        stored = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            path,
            [
                SigningKey(
                    key=RSAKey.import_key(entry["jwk"]),
                    created_at=datetime.fromisoformat(entry["created_at"]),
                    retired_at=(
                        datetime.fromisoformat(entry["retired_at"]) if entry["retired_at"] else None
                    ),
                )
                for entry in stored["keys"]
            ],
        )

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        content = {
            "keys": [
                {
                    "jwk": k.key.as_dict(private=True),
                    "created_at": k.created_at.isoformat(),
                    "retired_at": k.retired_at.isoformat() if k.retired_at else None,
                }
                for k in self.keys
            ]
        }
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(content, file, indent=2)
        temporary.replace(self.path)

    def rotate(self, *, now: datetime, token_lifetime: timedelta) -> SigningKey:
        """A new signing key; keys retired longer ago than a token lives are dropped."""
        self.keys = [
            k for k in self.keys if k.retired_at is None or now - k.retired_at <= token_lifetime
        ]
        self.keys = [SigningKey(k.key, k.created_at, k.retired_at or now) for k in self.keys] + [
            _new_key(now)
        ]
        self.save()
        return self.active
