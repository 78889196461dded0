"""Event cursors: opaque to clients, the same for the `events` list and every subscription.

A cursor names one committed event by its sequence and id (`<sequence>:<uuid>`, base64url).
Any process can check one without a shared secret: the outbox must hold that id at that
sequence, and a guessed cursor would need the event's random UUID.
"""

import base64
import binascii


class MalformedCursor(ValueError):
    """Not a cursor this server gave out."""


def cursor_of(sequence: int, event_id: str) -> str:
    return base64.urlsafe_b64encode(f"{sequence}:{event_id}".encode()).decode().rstrip("=")


def parse(cursor: str) -> tuple[int, str]:
    """(sequence, event id)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        sequence, event_id = raw.split(":", 1)
        number = int(sequence)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise MalformedCursor("`after` is not a cursor this server gave out") from None
    if number < 1 or not event_id:
        raise MalformedCursor("`after` is not a cursor this server gave out")
    return number, event_id
