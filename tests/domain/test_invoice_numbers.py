"""NumberRules.key: one key for one invoice number however it is written."""

import pytest

from apgraph.domain.invoice_numbers import NumberRules, edit_distance

LOOK_ALIKE = {0x456: "i", ord("1"): "l", ord("0"): "O"}  # a slice of the table, case-folded
ALL = NumberRules(confusables=LOOK_ALIKE)


@pytest.mark.parametrize(
    ("written", "as_written"),
    [
        ("DUP77", "DUP-77"),
        ("DUP-077", "DUP-77"),
        ("INV-0001", "INV001"),
        ("INV-\uff10\uff10\uff11", "INV-001"),
        ("INV\u00a0001", "INV-001"),
        ("INV-0\u200b01", "INV-001"),
        ("INV\u2013001", "INV-001"),
        ("\u0406NV-001", "INV-001"),
        (" inv/001 ", "INV.001"),
    ],
)
def test_one_number_written_another_way_has_one_key(written, as_written):
    assert ALL.key(written) == ALL.key(as_written)


@pytest.mark.parametrize(
    ("one", "other"),
    [("INV-12", "INV-13"), ("A-1", "B-1"), ("2024-0001", "2024-0002"), ("0", "")],
)
def test_different_numbers_keep_different_keys(one, other):
    assert ALL.key(one) != ALL.key(other)


def test_each_step_can_be_switched_off():
    plain = NumberRules(
        fold_unicode=False, ignore_separators=False, ignore_leading_zeros=False, confusables={}
    )
    assert plain.key(" Inv-001 ") == "inv-001"  # trimmed and case-folded, nothing more
    assert plain.key("INV-001") != plain.key("INV001")


@pytest.mark.parametrize(
    ("a", "b", "at_most", "expected"),
    [
        ("dup77", "dup77", 1, 0),
        ("dup77", "dup7", 1, 1),
        ("dup77", "dup78", 1, 1),
        ("dup77", "dx77x", 1, 2),
        ("abc", "abcdef", 1, 2),
    ],
)
def test_edit_distance_stops_counting_past_the_limit(a, b, at_most, expected):
    assert edit_distance(a, b, at_most=at_most) == expected
