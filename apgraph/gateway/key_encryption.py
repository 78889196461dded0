"""The key-encryption key (KEK): where it comes from, and which columns it protects.

Two adapters of the one port (services.ports.keys.KeyEncryptionKey): a key file in the data
directory (embedded mode, mode 0600, made on first start) and a key from the environment
(`APGRAPH_KEY_ENCRYPTION_KEY`, production). A KMS adapter would implement the same `wrap` and
`unwrap` by calling the KMS. Without a usable key the server does not start: it never
serves ciphertext and never writes a plain value.
"""

import base64
import binascii
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.gateway.refusal import StartupError
from apgraph.policies.gateway import GatewayConfig
from apgraph.services.ports.keys import KeyUnwrapFailed
from apgraph.settings import Settings
from apgraph.store.keyring import Keyring, KeyringError, has_data_keys
from apgraph.store.resealing import ResealReport
from apgraph.store.sealing import (
    KEY_BYTES,
    STORED_COLUMNS,
    SUPPLIERS,
    aead_unwrap,
    aead_wrap,
    new_key,
)

ENVIRONMENT_VARIABLE = "APGRAPH_KEY_ENCRYPTION_KEY"
RESEALED = "keys.resealed"
DROPPED = "keys.data_keys_dropped"  # retired keys no row is sealed under any more
_WRAPPING = b"apgraph data key"  # associated data: a wrapped key is only ever a data key


class KeyEncryptionKeyError(StartupError):
    """No usable key-encryption key; one line saying what to do."""


@dataclass(frozen=True, slots=True)
class LocalKek:
    """A KEK held in this process: AES-256-GCM wrapping of each data key."""

    name: str
    key: bytes = field(repr=False)

    def wrap(self, data_key: bytes) -> bytes:
        return aead_wrap(self.key, data_key, associated=_WRAPPING)

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return aead_unwrap(self.key, wrapped, associated=_WRAPPING)
        except (InvalidTag, ValueError):
            raise KeyUnwrapFailed(self.name) from None


def decode_key(raw: str, *, source: str) -> bytes:
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyEncryptionKeyError(
            f"{source}: the key-encryption key must be {KEY_BYTES} bytes in base64 "
            f"(make one with `apgraph keys new-kek`)"
        )
    return key


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode()


def write_key_file(path: Path, key: bytes) -> None:
    """Mode 0600 from the first byte: the file is never readable by others, not even briefly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(encode_key(key) + "\n")
    temporary.replace(path)


def file_kek(path: Path, *, create: bool) -> LocalKek:
    name = f"file:{path}"
    if not path.exists():
        if not create:
            raise KeyEncryptionKeyError(
                f"key-encryption key missing: no {path} and no {ENVIRONMENT_VARIABLE} "
                "(restore the key file, or set the variable)"
            )
        write_key_file(path, new_key())
    return LocalKek(name, decode_key(path.read_text(encoding="utf-8"), source=str(path)))


def key_encryption_key(settings: Settings, *, create: bool = False) -> LocalKek:
    """The environment's key when set, else the data directory's file. `create`: make the
    file when absent (only allowed for a database that has no data keys yet)."""
    if settings.key_encryption_key:
        key = decode_key(settings.key_encryption_key, source=ENVIRONMENT_VARIABLE)
        return LocalKek(f"env:{ENVIRONMENT_VARIABLE}", key)
    return file_kek(settings.key_encryption_key_file, create=create and settings.dev)


def sealed_columns(config: GatewayConfig) -> frozenset[str]:
    """The supplier columns gateway.yaml's `at_rest: encrypted` fields are stored in."""
    columns = set()
    for name, rule in config.access.classified.items():
        if not rule.encrypted:
            continue
        stored = STORED_COLUMNS.get(name)
        if stored is None or stored[0] != SUPPLIERS:
            raise KeyEncryptionKeyError(
                f"gateway.yaml: access.classified.{name}: at_rest encrypted, but no stored "
                f"column is known for it (known: {', '.join(sorted(STORED_COLUMNS))})"
            )
        columns.add(stored[1])
    return frozenset(columns)


def keyring(settings: Settings, config: GatewayConfig, engine: AsyncEngine) -> Keyring:
    """The keyring of a process whose database already has its data keys."""
    return Keyring(engine, key_encryption_key(settings), columns=sealed_columns(config))


async def open_keyring(
    settings: Settings, config: GatewayConfig, engine: AsyncEngine, *, now: datetime
) -> Keyring:
    """At start: the keys made on a first start (and, in embedded mode, the key file with
    them), checked on every other. A missing or wrong KEK stops the start here."""
    first = not await has_data_keys(engine)
    kek = key_encryption_key(settings, create=first)
    found = Keyring(engine, kek, columns=sealed_columns(config))
    try:
        if not first:
            await found.reload()  # a wrong key stops here, before it wraps anything new
        await found.create_if_missing(now=now)
        await found.reload()
    except KeyringError as error:
        raise KeyEncryptionKeyError(str(error)) from None
    return found


def resealed_event(report: ResealReport, *, subject: str = "system:reseal") -> AuditEvent:
    """What a reseal pass leaves in the audit trail: how many rows and webhook secrets moved,
    which could not."""
    detail = {
        "moved": report.moved,
        "secrets_moved": report.secrets_moved,
        "unreadable": report.unreadable,
    }
    return AuditEvent(
        subject=subject,
        action=RESEALED,
        outcome=AuditOutcome.FAILED if report.unreadable else AuditOutcome.SUCCEEDED,
        entity_ids=tuple(report.unreadable),
        detail=json.dumps(detail, sort_keys=True),
    )


def dropped_event(dropped: list[str], *, subject: str = "system:reseal") -> AuditEvent:
    """The retired data keys a reseal pass deleted (DropReport.dropped)."""
    return AuditEvent(
        subject=subject,
        action=DROPPED,
        outcome=AuditOutcome.SUCCEEDED,
        entity_ids=(),
        detail=json.dumps({"dropped": dropped}, sort_keys=True),
    )
