"""The gateway's bounded caches: the least recently used entry goes first."""

import pytest

from apgraph.gateway.recent import Recent


def test_it_keeps_at_most_its_bound_and_forgets_the_oldest_first():
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("c", 3)
    assert len(recent) == 2
    assert "a" not in recent
    assert (recent.get("b"), recent.get("c")) == (2, 3)


def test_a_lookup_makes_an_entry_the_most_recent():
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1
    recent.put("c", 3)
    assert "b" not in recent
    assert recent.get("a") == 1


def test_storing_a_key_again_replaces_its_value_and_makes_it_the_most_recent():
    recent: Recent[str, int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("a", 10)
    recent.put("c", 3)
    assert "b" not in recent
    assert recent.get("a") == 10


def test_a_missing_key_answers_none_and_a_kept_none_is_still_kept():
    recent: Recent[str, None] = Recent(1)
    assert recent.get("a") is None
    assert "a" not in recent
    recent.put("a", None)
    assert "a" in recent


def test_it_keeps_at_least_one_entry():
    with pytest.raises(ValueError, match="at least one"):
        Recent(0)


def test_a_lookup_of_a_kept_none_makes_it_the_most_recent_too():
    recent: Recent[str, int | None] = Recent(2)
    recent.put("a", None)
    recent.put("b", 2)
    assert recent.get("a") is None
    recent.put("c", 3)
    assert "a" in recent
    assert "b" not in recent
