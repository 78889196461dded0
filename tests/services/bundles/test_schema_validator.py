"""The JSON reader's fast paths judge a document exactly as the shipped schema does: the
quick check (quick_check.py) says valid only when `jsonschema` finds nothing, and the
validator built on the inlined schema reports what the shipped schema reports."""

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from apgraph.services.bundles import json_reader, write_json
from apgraph.services.bundles.quick_check import compile_check
from tests.bundles import bundles
from tests.services.bundles.test_json_problems import document

SHIPPED = Draft202012Validator(json_reader.schema())
QUICK = compile_check(json_reader.schema())
JUNK = [None, True, 0, 1, 1.5, -1, "", "x", "USD", "FAC-0001", "2026-01-05", [], {}, ["x"]]


def errors(validator: Draft202012Validator, doc: object) -> set[tuple[str, str, str]]:
    return {
        (json_reader._pointer(list(e.absolute_path)), str(e.validator), e.message)
        for e in validator.iter_errors(doc)
    }


def planted() -> dict:
    doc = document()
    doc["cost_centers"][0]["approvers"] = "dana"
    doc["suppliers"][0]["tax_rate"] = 0.0825
    del doc["suppliers"][0]["contacts"][0]["email"]
    doc["suppliers"][1]["nickname"] = "Crescent"
    doc["purchase_orders"][0]["lines"][0]["currency"] = "usd"  # a `$ref` with siblings
    doc["goods_receipts"][0]["line_no"] = 0
    doc["contract_prices"][0]["id"] = "CT-1"
    return doc


def test_the_shipped_schema_compiles_to_a_quick_check_that_passes_a_valid_bundle():
    assert QUICK is not None
    assert QUICK(document())
    assert not QUICK(planted())


def test_the_inlined_validator_reports_what_the_shipped_schema_does():
    found = errors(json_reader._validator(), planted())

    assert found == errors(SHIPPED, planted())
    assert len(found) == 7
    assert '{"$ref": "#/$defs/' not in json.dumps(json_reader._validator().schema["properties"])


@settings(max_examples=60, deadline=None)
@given(
    bundle=bundles(),
    spoiled=st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(JUNK)), max_size=3),
)
def test_both_agree_with_the_shipped_schema_on_generated_documents(bundle, spoiled):
    # given a generated bundle's JSON with up to three values replaced by junk
    doc = json.loads(write_json(bundle))
    for index, junk in spoiled:
        leaves = list(_leaves(doc))
        parent, key = leaves[index % len(leaves)]
        parent[key] = copy.deepcopy(junk)  # a copy: a later spoil may land inside it, and
        # planting JUNK's own ["x"] inside itself made a list that contains itself

    # then the quick check passes it only when jsonschema finds nothing, and the validator
    # the reader falls back to finds what the shipped schema finds
    shipped = errors(SHIPPED, doc)
    assert QUICK is not None
    if QUICK(doc):
        assert shipped == set()
    assert errors(json_reader._validator(), doc) == shipped


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "anyOf": [{"required": ["a"]}]},
        {"$ref": "https://example.com/other.json"},
        {"type": "string", "format": "email"},
        {"enum": [1.5]},
    ],
)
def test_a_schema_with_a_keyword_it_does_not_know_gets_no_quick_check(schema):
    assert compile_check(schema) is None


def _leaves(node):
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        if isinstance(value, dict | list) and value:
            yield from _leaves(value)
        else:
            yield node, key
