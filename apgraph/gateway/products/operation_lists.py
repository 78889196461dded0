"""A product's allow-list of operations (trusted documents), read from the formats clients
already produce: Apollo's persisted-query manifest, and the GraphQL Codegen / Hive
trusted-documents JSON (`{"<sha256>": "<document>"}`), which is also how we store it.

Operations are keyed by the SHA-256 of their exact text (what APQ's `sha256Hash` and Apollo's
manifest `id` carry); a client's own `documentId` key is kept as given.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse

from apgraph.policies.products import PersistedOperations
from apgraph.settings import shipped_gateway_config

APOLLO_FORMAT = "apollo-persisted-query-manifest"
SHA256 = re.compile(r"^[0-9a-f]{64}$")


class OperationListError(Exception):
    """The file cannot be read as an operation list; the message says why, in one line."""


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class OperationList:
    documents: dict[str, str] = field(default_factory=dict)  # id → document text

    def get(self, document_id: str) -> str | None:
        return self.documents.get(document_id)

    def allows(self, document: str) -> bool:
        """The exact text of an operation on the list (whatever id it was registered by), or
        an introspection query."""
        return document in self._texts() or is_introspection(document)

    def _texts(self) -> frozenset[str]:
        return frozenset(self.documents.values())

    def merged(self, other: "OperationList") -> "OperationList":
        return OperationList({**self.documents, **other.documents})

    def without(self, document_id: str) -> "OperationList":
        return OperationList({k: v for k, v in self.documents.items() if k != document_id})

    def as_json(self) -> str:
        """The Codegen / Hive trusted-documents form, sorted so diffs stay small."""
        return json.dumps(dict(sorted(self.documents.items())), indent=2) + "\n"


def list_path(gateway_config: Path, policy: PersistedOperations) -> Path | None:
    """Where a product's list is kept: its `file`, relative to gateway.yaml's folder. A copy
    of gateway.yaml (`apgraph init`) without its own copy of the list reads the list shipped
    in the package beside the shipped gateway.yaml, until `apgraph operations add` writes one
    next to it (see `list_target`)."""
    if policy.file is None:
        return None
    local = list_target(gateway_config, policy.file)
    shipped = shipped_gateway_config().parent / policy.file
    return local if local.exists() or not shipped.exists() else shipped


def list_target(gateway_config: Path, file: Path) -> Path:
    """Where a change to the list is written: next to gateway.yaml (a symlinked gateway.yaml,
    as in a clone, counts from the file it points at)."""
    return file if file.is_absolute() else gateway_config.resolve().parent / file


def write_operation_list(path: Path, operations: OperationList) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(operations.as_json(), encoding="utf-8")


INTROSPECTION_FIELDS = frozenset({"__schema", "__type", "__typename"})


def is_introspection(document: str) -> bool:
    """Only introspection fields at the root: an allow-list does not cover these (as in
    Apollo's safelisting); whether the product answers them is its introspection setting."""
    try:
        parsed = parse(document)
    except GraphQLError:
        return False
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    return bool(operations) and all(
        isinstance(selection, FieldNode) and selection.name.value in INTROSPECTION_FIELDS
        for operation in operations
        for selection in operation.selection_set.selections
    )


def operation_name(document: str) -> str:
    try:
        parsed = parse(document)
    except GraphQLError:
        return "(unparsable)"
    names = [
        d.name.value if d.name else "(anonymous)"
        for d in parsed.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    return ", ".join(names) or "(no operation)"


def read_operation_list(path: Path) -> OperationList:
    """An Apollo manifest, a Codegen/Hive trusted-documents JSON, or one .graphql document."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise OperationListError(f"{path}: cannot be read: {error.strerror}") from None
    if path.suffix in (".graphql", ".gql"):
        return OperationList({sha256_of(text): text})
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise OperationListError(f"{path}: not valid JSON: {error}") from None
    if isinstance(raw, dict) and raw.get("format") == APOLLO_FORMAT:
        return _from_apollo(path, raw)
    if isinstance(raw, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        return _checked(path, raw)
    raise OperationListError(
        f"{path}: neither an Apollo persisted-query manifest nor a trusted-documents map "
        '({"<sha256>": "<document>"})'
    )


def _from_apollo(path: Path, raw: dict[str, object]) -> OperationList:
    operations = raw.get("operations")
    if raw.get("version") != 1 or not isinstance(operations, list):
        raise OperationListError(f"{path}: an Apollo manifest needs version 1 and `operations`")
    documents = {}
    for index, entry in enumerate(operations):
        if not isinstance(entry, dict) or not isinstance(entry.get("body"), str):
            raise OperationListError(f"{path}: operations.{index}: needs a `body` string")
        documents[str(entry.get("id") or sha256_of(entry["body"]))] = entry["body"]
    return _checked(path, documents)


def _checked(path: Path, documents: dict[str, str]) -> OperationList:
    """A 64-hex id must be the document's hash: a wrong one would let a client run a
    different text than the one reviewed under that id."""
    for document_id, document in documents.items():
        if SHA256.match(document_id) and sha256_of(document) != document_id:
            raise OperationListError(f"{path}: {document_id}: not the SHA-256 of its document")
    return OperationList(dict(documents))
