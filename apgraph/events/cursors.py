"""Subscription cursors: opaque to clients, checked against the outbox on resume.

A cursor names one committed event by its sequence and its id (`<sequence>:<uuid>`,
base64url). Any process can check it (no shared secret): the outbox must hold that id at
that sequence. A guessed cursor would need the event's random UUID, so it is refused.
"""

import base64
import binascii

from apgraph.services.ports.bus import CursorRejected
from apgraph.services.ports.unit_of_work import OutboxRecord


def cursor_of(record: OutboxRecord) -> str:
    raw = f"{record.sequence}:{record.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse(cursor: str) -> tuple[int, str]:
    """(sequence, event id); CursorRejected when it is not a cursor at all."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        sequence, event_id = raw.split(":", 1)
        return int(sequence), event_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CursorRejected("`after` is not a cursor this server gave out") from None
