"""Sealed values: authenticated, bound to their cell, and looked up only by keyed hash."""

import pytest

from apgraph.store.sealing import PREFIX, DataKeys, Place, Sealing, Unreadable, key_id_of, new_key

KEYS = DataKeys(keys={"dk-1": new_key()}, active_id="dk-1", index_key=new_key())
ACCOUNT = Place("suppliers", "bank_account_number", "SUP-000001")
SEALING = Sealing(KEYS, frozenset({"tax_id", "bank_routing_number", "bank_account_number"}))
ROW = {
    "id": "SUP-000001",
    "legal_name": "Acme Medical",
    "tax_id": "12-3456789",
    "bank_name": "First Bank",
    "bank_routing_number": "021000021",
    "bank_account_number": "000123456789",
}


def test_a_sealed_value_opens_to_itself_and_shows_nothing_of_it():
    sealed = KEYS.seal("000123456789", ACCOUNT)

    assert sealed.startswith(PREFIX)
    assert key_id_of(sealed) == "dk-1"
    assert "6789" not in sealed
    assert KEYS.open(sealed, ACCOUNT) == "000123456789"


def test_the_same_value_seals_differently_each_time():
    assert KEYS.seal("000123456789", ACCOUNT) != KEYS.seal("000123456789", ACCOUNT)


def flip_a_ciphertext_character(sealed: str) -> str:
    """The same value with one base64 character of its ciphertext changed in its high bit."""
    prefix, body = sealed.rsplit(".", 1)
    middle = len(body) // 2
    flipped = "z" if body[middle] in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef" else "A"
    return f"{prefix}.{body[:middle]}{flipped}{body[middle + 1 :]}"


@pytest.mark.parametrize(
    ("stored", "place"),
    [
        # a flipped character in the ciphertext (mid-body, its high bit: every bit of it is
        # decoded, unlike the padding bits of the last character before `=`)
        (flip_a_ciphertext_character, ACCOUNT),
        # another supplier's value copied into this row
        (lambda s: s, Place("suppliers", "bank_account_number", "SUP-000002")),
        # the routing number's cell given the account number's value
        (lambda s: s, Place("suppliers", "bank_routing_number", "SUP-000001")),
        # a plain value written past the API into a sealed column
        (lambda s: "000123456789", ACCOUNT),
        # sealed under a key this keyring does not hold
        (lambda s: s.replace("dk-1", "dk-9", 1), ACCOUNT),
    ],
    ids=["flipped", "other-row", "other-column", "plain", "unknown-key"],
)
def test_a_value_altered_or_moved_is_unreadable_never_wrong(stored, place):
    sealed = KEYS.seal("000123456789", ACCOUNT)

    with pytest.raises(Unreadable) as raised:
        KEYS.open(stored(sealed), place)

    assert raised.value.code == "FIELD_UNREADABLE"


def test_a_supplier_row_is_stored_with_every_classified_column_sealed():
    stored = SEALING.seal_supplier(ROW)

    for column in ("tax_id", "bank_routing_number", "bank_account_number"):
        assert key_id_of(stored[column]) == "dk-1"
        assert ROW[column] not in str(stored)
    assert stored["data_key_id"] == "dk-1"
    assert stored["legal_name"] == "Acme Medical"  # not classified: as it was
    assert SEALING.open_supplier(stored) == (ROW, frozenset())


def test_an_unreadable_column_is_named_and_the_others_still_open():
    stored = SEALING.seal_supplier(ROW)
    stored["tax_id"] = SEALING.seal_supplier({**ROW, "id": "SUP-000002"})["tax_id"]

    opened, failed = SEALING.open_supplier(stored)

    assert failed == {"tax_id"}
    assert opened["tax_id"] == ""
    assert opened["bank_account_number"] == "000123456789"


def test_the_same_bank_account_hashes_alike_at_two_suppliers_and_hides_the_number():
    first = SEALING.seal_supplier(ROW)
    second = SEALING.seal_supplier(
        {**ROW, "id": "SUP-000002", "bank_routing_number": "021-000-021"}
    )
    other = SEALING.seal_supplier({**ROW, "id": "SUP-000003", "bank_account_number": "999"})

    assert first["bank_account_hash"] == second["bank_account_hash"]
    assert first["bank_account_hash"] != other["bank_account_hash"]
    assert "000123456789" not in first["bank_account_hash"]


def test_with_no_column_classified_for_sealing_rows_are_stored_plain():
    plain = Sealing(KEYS, frozenset())

    stored = plain.seal_supplier(ROW)

    assert stored["bank_account_number"] == "000123456789"
    assert stored["data_key_id"] is None
