import pytest

from apgraph.domain import ids
from apgraph.domain.ids import EntityKind, InvalidId


@pytest.mark.parametrize(
    ("parse", "raw"),
    [
        (ids.facility, "FAC-0001"),
        (ids.cost_center, "CC-0001-4410"),
        (ids.supplier, "SUP-000123"),
        (ids.purchase_order, "PO-2026-000456"),
        (ids.invoice, "INV-00000042"),
        (ids.payment, "PAY-00000007"),
        (ids.attachment, "DOC-00000001"),
    ],
)
def test_a_well_formed_id_parses_to_itself(parse, raw):
    assert parse(raw) == raw


@pytest.mark.parametrize(
    ("parse", "raw"),
    [
        (ids.facility, "FAC-1"),
        (ids.facility, "fac-0001"),
        (ids.supplier, "SUP-000123 "),
        (ids.supplier, "INV-00000042"),
        (ids.purchase_order, "PO-000456"),
        (ids.invoice, ""),
        (ids.invoice, "INV-00000042' OR 1=1"),
    ],
)
def test_a_malformed_id_is_refused_with_the_expected_form(parse, raw):
    with pytest.raises(InvalidId) as refused:
        parse(raw)
    assert refused.value.kind.example in str(refused.value)


def test_the_prefix_tells_the_kind():
    assert ids.kind_of("INV-00000042") is EntityKind.INVOICE
    assert ids.kind_of("CC-0001-4410") is EntityKind.COST_CENTER
    assert ids.kind_of("nonsense") is None


def test_a_cost_center_id_is_facility_plus_gl_segment():
    assert ids.cost_center_for(ids.facility("FAC-0003"), "4410") == "CC-0003-4410"


def test_numbered_ids_are_zero_padded_to_their_form():
    assert ids.numbered(EntityKind.INVOICE, 7) == "INV-00000007"
    assert ids.numbered(EntityKind.PURCHASE_ORDER, 456, year=2026) == "PO-2026-000456"
    with pytest.raises(ValueError, match="year"):
        ids.numbered(EntityKind.PURCHASE_ORDER, 1)
