"""The hash chain: any edit, deletion or insertion shows at the first entry it touches."""

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from apgraph.domain.audit import (
    GENESIS_HASH,
    SEQUENCE_BETWEEN,
    AuditEvent,
    AuditOutcome,
    canonical_halves,
    chained,
    entry_hash,
    first_break,
)

START = datetime(2026, 11, 1, tzinfo=UTC)


def chain(length):
    entries, previous = [], GENESIS_HASH
    for n in range(1, length + 1):
        event = AuditEvent(f"user{n}", "invoice.approve", AuditOutcome.SUCCEEDED, (f"INV-{n:08d}",))
        entry = chained(n, START + timedelta(minutes=n), event, previous)
        entries.append(entry)
        previous = entry.hash
    return entries


def test_an_untouched_chain_holds():
    entries = chain(5)
    assert first_break(entries, head=(5, entries[-1].hash)) is None


def test_an_edited_entry_is_named():
    entries = chain(5)
    forged = dataclasses.replace(entries[2].event, subject="mallory")
    entries[2] = dataclasses.replace(entries[2], event=forged)
    assert first_break(entries).sequence == 3
    assert "edited" in first_break(entries).reason


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link():
    entries = chain(5)
    forged = dataclasses.replace(entries[2].event, subject="mallory")
    entries[2] = chained(3, entries[2].at, forged, entries[2].prev_hash)
    assert first_break(entries).sequence == 4


def test_a_deleted_entry_is_named():
    entries = chain(5)
    del entries[1]
    assert first_break(entries).sequence == 2
    assert "missing" in first_break(entries).reason


def test_an_inserted_entry_is_named():
    entries = chain(5)
    intruder = chained(
        3, START, AuditEvent("mallory", "x", AuditOutcome.SUCCEEDED), entries[1].hash
    )
    entries.insert(3, intruder)  # after the real entry 3
    broken = first_break(entries)
    assert (broken.sequence, "again" in broken.reason) == (4, True)


def test_entries_cut_from_the_end_are_found_through_the_head():
    entries = chain(5)
    broken = first_break(entries[:3], head=(5, entries[-1].hash))
    assert broken.sequence == 4
    assert "head" in broken.reason


TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)  # quotes, controls, emoji
EVENTS = st.builds(
    AuditEvent,
    subject=TEXT,
    action=TEXT,
    outcome=st.sampled_from(AuditOutcome),
    entity_ids=st.lists(TEXT, max_size=3).map(tuple),
    client_id=st.none() | TEXT,
    trace_id=st.none() | TEXT,
    detail=st.none() | TEXT,
)
ATS = st.datetimes(timezones=st.just(UTC))


@settings(max_examples=300)
@given(event=EVENTS, at=ATS, sequence=st.integers(1, 2**31 - 1), prev=st.text("0123456789abcdef"))
def test_the_canonical_text_splits_around_the_two_values_the_chain_decides(
    event, at, sequence, prev
):
    # what a database hashes, given the halves, the previous hash and the sequence
    before, after = canonical_halves(at, event)
    text = before + prev + SEQUENCE_BETWEEN + str(sequence) + after
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == entry_hash(sequence, at, event, prev)
    assert before.isascii()
    assert after.isascii()  # so the database's UTF-8 bytes are Python's
