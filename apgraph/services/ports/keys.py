"""Key encryption: the one port between the data keys and wherever the master key lives."""

from typing import Protocol


class KeyUnwrapFailed(Exception):
    """The key-encryption key does not open a wrapped data key: another KEK, or tampering."""


class KeyEncryptionKey(Protocol):
    """Wraps and unwraps data keys; it never hands out its own key material, so a KMS (whose
    key never leaves it) fits behind the same two calls as a key file.

    `unwrap` raises KeyUnwrapFailed when the blob was wrapped by another key or altered.
    """

    @property
    def name(self) -> str:
        """Where the key lives, for messages: `file:/path` or `env:APGRAPH_…`. Never the key."""
        ...

    def wrap(self, data_key: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes) -> bytes: ...
