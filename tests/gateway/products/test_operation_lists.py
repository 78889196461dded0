"""Allow-lists read from the formats clients produce, checked so an id is its text's hash."""

import hashlib
import json

import pytest

from apgraph.gateway.products.operation_lists import (
    OperationListError,
    is_introspection,
    read_operation_list,
)

VIEWER = "query Viewer { viewer { subject } }"
VIEWER_ID = hashlib.sha256(VIEWER.encode()).hexdigest()


def test_an_apollo_persisted_query_manifest(tmp_path):
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": VIEWER_ID, "name": "Viewer", "type": "query", "body": VIEWER}],
    }
    path = tmp_path / "persisted-query-manifest.json"
    path.write_text(json.dumps(manifest))
    assert read_operation_list(path).documents == {VIEWER_ID: VIEWER}


def test_a_codegen_or_hive_trusted_documents_map_with_its_own_ids(tmp_path):
    path = tmp_path / "persisted-documents.json"
    path.write_text(json.dumps({VIEWER_ID: VIEWER, "portal~1.4~viewer": VIEWER}))
    operations = read_operation_list(path)
    assert operations.get("portal~1.4~viewer") == VIEWER
    assert operations.allows(VIEWER)
    assert not operations.allows(VIEWER + " ")  # the exact text only


def test_a_graphql_document_is_keyed_by_its_hash(tmp_path):
    path = tmp_path / "viewer.graphql"
    path.write_text(VIEWER)
    assert read_operation_list(path).documents == {VIEWER_ID: VIEWER}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (json.dumps({"0" * 64: VIEWER}), "not the SHA-256 of its document"),
        (json.dumps({"format": "apollo-persisted-query-manifest", "version": 2}), "version 1"),
        (json.dumps([VIEWER]), "neither an Apollo persisted-query manifest"),
        ("{", "not valid JSON"),
    ],
)
def test_a_list_that_cannot_be_trusted_is_refused_with_one_line(tmp_path, text, expected):
    path = tmp_path / "list.json"
    path.write_text(text)
    with pytest.raises(OperationListError, match=expected) as raised:
        read_operation_list(path)
    assert str(raised.value).startswith(f"{path}: ")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("{ __schema { types { name } } }", True),
        ('query { __type(name: "Invoice") { name } __typename }', True),
        ("{ __schema { types { name } } viewer { subject } }", False),
        ("{ viewer { subject } }", False),
        ("{ __schema", False),
    ],
)
def test_only_pure_introspection_passes_an_allow_list(document, expected):
    assert is_introspection(document) is expected
