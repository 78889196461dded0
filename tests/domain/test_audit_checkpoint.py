"""Purge by checkpoint: the chain verifies from a signed checkpoint; a forged or missing one
shows."""

import dataclasses

from apgraph.domain.audit import (
    CHECKPOINT,
    AuditEvent,
    AuditOutcome,
    Break,
    Checkpoint,
    chain_start,
    chained,
    first_break,
)
from tests.domain.test_audit import START, chain

KEY = b"k" * 32


def purged_at(entries, cut: int, *, key: bytes = KEY):
    """`entries` with a checkpoint for `cut` appended, then entries up to `cut` deleted."""
    checkpoint = Checkpoint.signed(cut, entries[cut - 1].hash, key=key)
    event = AuditEvent(
        "system:retention", CHECKPOINT, AuditOutcome.SUCCEEDED, detail=checkpoint.detail()
    )
    last = entries[-1]
    entries = [*entries, chained(last.sequence + 1, START, event, last.hash)]
    return entries[cut:]


def verify(entries, *, key: bytes | None = KEY):
    start = chain_start(entries[0], [e for e in entries if e.event.action == CHECKPOINT], key=key)
    if isinstance(start, Break):
        return start
    return first_break(entries, head=(entries[-1].sequence, entries[-1].hash), start=start)


def test_a_chain_purged_by_checkpoint_verifies_from_the_cut():
    assert verify(purged_at(chain(10), 6)) is None


def test_a_checkpoint_signed_with_another_key_is_a_forgery():
    broken = verify(purged_at(chain(10), 6, key=b"x" * 32))

    assert broken is not None
    assert "forged" in broken.reason


def test_entries_deleted_without_a_checkpoint_show():
    broken = verify(chain(10)[3:])

    assert broken == Break(1, "entries 1 to 3 are missing and no checkpoint covers them")


def test_an_entry_after_the_cut_edited_still_shows():
    tampered = purged_at(chain(10), 6)
    tampered[1] = dataclasses.replace(
        tampered[1], event=dataclasses.replace(tampered[1].event, subject="mallory")
    )

    broken = verify(tampered)

    assert broken is not None
    assert broken.sequence == 8
