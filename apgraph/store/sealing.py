"""Classified columns sealed at rest: AES-GCM under a data key, each data key wrapped by the
key-encryption key (KEK) and kept, wrapped, in the `data_keys` table.

A sealed value reads `enc1.<data key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`. The row's
table, column and ID are the associated data, so a value copied into another row or column
fails its tag exactly like a flipped byte: both are `Unreadable`, never a wrong answer.

Lookups on a sealed value (the same bank account at two suppliers) go through a keyed hash
(HMAC-SHA256 under the index key), never through the plain value.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import RowMapping

PREFIX = "enc1."
KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12
UNREADABLE = "FIELD_UNREADABLE"  # the stable code of a value that fails to decrypt


class Unreadable(Exception):
    """A stored classified value that fails its integrity check (or names an unknown key)."""

    code = UNREADABLE

    def __init__(self, place: "Place", reason: str) -> None:
        super().__init__(f"{place}: {reason}")
        self.place = place
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Place:
    """Which cell a value belongs to: bound into its ciphertext as associated data."""

    table: str
    column: str
    row_id: str

    def associated_data(self) -> bytes:
        return f"{self.table}\x1f{self.column}\x1f{self.row_id}".encode()

    def __str__(self) -> str:
        return f"{self.table}.{self.column} of {self.row_id}"


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def aead_wrap(key: bytes, plain: bytes, *, associated: bytes = b"") -> bytes:
    """nonce ‖ AES-GCM(plain): the one construction for values and wrapped keys alike."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plain, associated)


def aead_unwrap(key: bytes, sealed: bytes, *, associated: bytes = b"") -> bytes:
    """Raises InvalidTag when `sealed` was made under another key or has been altered."""
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)


def key_id_of(stored: str) -> str | None:
    """The data key a stored value is sealed under; None for a plain value."""
    if not stored.startswith(PREFIX):
        return None
    return stored[len(PREFIX) :].split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class DataKeys:
    """Unwrapped keys in memory: every data key by ID (old ones still open old rows), the
    active one (seals new values), the index key (keyed hashes for lookups) and the key that
    signs audit checkpoints."""

    keys: Mapping[str, bytes]
    active_id: str
    index_key: bytes
    checkpoint_key: bytes | None = None  # signs audit checkpoints
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False, compare=False)

    def _cipher(self, key_id: str) -> AESGCM:
        """One AESGCM per key, made on first use: building it costs more than a field."""
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            cipher = self._ciphers[key_id] = AESGCM(self.keys[key_id])
        return cipher

    def seal(self, value: str, place: Place) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        body = self._cipher(self.active_id).encrypt(nonce, value.encode(), place.associated_data())
        sealed = base64.urlsafe_b64encode(nonce + body).decode()
        return f"{PREFIX}{self.active_id}.{sealed}"

    def open(self, stored: str, place: Place) -> str:
        """The plain value, or Unreadable: a plain value where a sealed one belongs is as
        suspect as a broken tag (it could be a downgrade written past the API)."""
        key_id = key_id_of(stored)
        if key_id is None:
            raise Unreadable(place, "not sealed")
        if key_id not in self.keys:
            raise Unreadable(place, f"unknown data key {key_id}")
        try:
            body = base64.urlsafe_b64decode(stored[len(PREFIX) + len(key_id) + 1 :])
            opened = self._cipher(key_id).decrypt(
                body[:NONCE_BYTES], body[NONCE_BYTES:], place.associated_data()
            )
            return opened.decode()
        except (InvalidTag, ValueError):
            raise Unreadable(place, "integrity check failed") from None

    def blind_index(self, kind: str, value: str) -> str:
        """HMAC-SHA256 of `kind:value`: equal values hash equal, the hash reveals neither."""
        message = f"{kind}:{value}".encode()
        return hmac.new(self.index_key, message, hashlib.sha256).hexdigest()


# --- the supplier table's classified columns ------------------------------------------------

SUPPLIERS = "suppliers"
# GraphQL field (as gateway.yaml's access.classified names it) → the column that stores it.
# A new classified column is one entry here and `at_rest: encrypted` in gateway.yaml.
STORED_COLUMNS: Mapping[str, tuple[str, str]] = {
    "Supplier.taxId": (SUPPLIERS, "tax_id"),
    "BankAccount.routingNumber": (SUPPLIERS, "bank_routing_number"),
    "BankAccount.accountNumber": (SUPPLIERS, "bank_account_number"),
}
SEALED_COLUMNS_KNOWN = tuple(c for table, c in STORED_COLUMNS.values() if table == SUPPLIERS)


def bank_account_key(routing_number: str, account_number: str) -> str:
    """What makes two bank accounts the same one: routing and account number, digits only."""
    digits = "".join(ch for ch in f"{routing_number}/{account_number}" if ch.isalnum() or ch == "/")
    return digits.upper()


@dataclass(frozen=True, slots=True)
class Sealing:
    """Which columns are sealed, and the keys to seal and open them with."""

    keys: DataKeys
    columns: frozenset[str]  # of the suppliers table

    def seal_supplier(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A plain supplier row as stored: classified columns sealed, the key and the keyed
        hashes alongside. Never writes a plain value into a sealed column."""
        sealed = dict(row)
        for column in self.columns:
            value = row.get(column)
            if value is not None:
                sealed[column] = self.keys.seal(value, Place(SUPPLIERS, column, row["id"]))
        sealed["data_key_id"] = self.keys.active_id if self.columns else None
        routing, account = row.get("bank_routing_number"), row.get("bank_account_number")
        sealed["bank_account_hash"] = (
            self.keys.blind_index("bank_account", bank_account_key(routing or "", account))
            if account is not None
            else None
        )
        return sealed

    def open_supplier(
        self, row: Mapping[str, Any] | RowMapping
    ) -> tuple[dict[str, Any], frozenset[str]]:
        """The plain row, and the columns that failed to open (their values left empty).

        Any sealed value is opened, configured or not, so ciphertext is never passed on as a
        value; a plain value where the configuration says sealed fails like a broken tag."""
        plain = {k: v for k, v in row.items() if k not in DERIVED}
        failed = set()
        for column in SEALED_COLUMNS_KNOWN:
            value = row.get(column)
            if value is None or (key_id_of(value) is None and column not in self.columns):
                continue
            try:
                plain[column] = self.keys.open(value, Place(SUPPLIERS, column, row["id"]))
            except Unreadable:
                plain[column] = ""
                failed.add(column)
        return plain, frozenset(failed)


DERIVED = frozenset({"data_key_id", "bank_account_hash"})  # stored beside, never compared
