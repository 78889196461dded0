"""Demand control: what an operation will cost, computed from the document and its variables
before anything executes, in the spirit of the IBM GraphQL Cost Directives that Apollo's
demand control follows.

Each field that returns an object costs `object`, each scalar or enum `scalar`, a mutation
field `mutation` more, and a field named in `fields` its own weight. A field taking `first`
(a connection) multiplies what is selected under it by `first`, or by the page size when the
client leaves it out; a plain list (an invoice's lines) by `list_size`, the size assumed for
lists nobody pages. Example, with the default weights and page size 20:

    { invoices(first: 50) { edges { node { id lines { quantity } } } } }

costs 1 (invoices) + 50 x (1 edges + 1 node + 10 x 1 lines) = 601. Fragments count every type
condition (an upper bound). Hand-written: no kept Python library prices a document with its
variables; the walk is small and has its own tests.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
)
from graphql.language import DocumentNode

from apgraph.gateway.recent import Recent
from apgraph.policies.products import CostWeights

PAGE_ARGUMENT = "first"
PRICES_KEPT = 256  # (text, operation) pairs, and as many (text, operation, sizes) prices


@dataclass(frozen=True, slots=True)
class CostModel:
    weights: CostWeights
    default_page_size: int
    max_page_size: int

    def of(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        *,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int:
        """The operation's cost; 0 when the document names no operation that could run
        (execution reports that)."""
        return self.priced(schema, document, operation_name=operation_name, variables=variables)[0]

    def priced(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        *,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> tuple[int, tuple[str, ...]]:
        """The operation's cost, and the variables it read page sizes from, in order: the
        cost of this document and operation changes with those variables' sizes alone."""
        fragments = {
            node.name.value: node
            for node in document.definitions
            if isinstance(node, FragmentDefinitionNode)
        }
        operation = _operation(document, operation_name)
        if operation is None:
            return 0, ()
        root = schema.get_root_type(operation.operation)
        if root is None:
            return 0, ()
        walk = _Walk(self, schema, fragments, variables or {}, {})
        extra = self.weights.mutation if operation.operation is OperationType.MUTATION else 0
        cost = walk.selection_set(root, operation.selection_set, per_field=extra)
        return cost, tuple(walk.read)

    def page_size(self, raw: object) -> int:
        """The page a `first` of `raw` returns: the default page for anything but an int."""
        if not isinstance(raw, int) or isinstance(raw, bool):
            return self.default_page_size
        return max(0, min(raw, self.max_page_size))


PriceKey = tuple[str, str | None, tuple[int, ...]]


class Prices:
    """One product's operations priced before, by query text, operation name and the page
    sizes their variables ask for: a portal page asks the same document with a new cursor
    each time, and walking it again was about a twentieth of the page's pipeline (issue 19).
    A price depends on nothing else: keep one `Prices` per schema (a product version's)."""

    def __init__(self, model: CostModel, kept: int = PRICES_KEPT) -> None:
        self.model = model
        self.reads: Recent[tuple[str, str | None], tuple[str, ...]] = Recent(kept)
        self.costs: Recent[PriceKey, int] = Recent(kept)

    def of(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        *,
        query: str | None,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> int:
        """As `CostModel.of`; `query` is the document's text (None: not remembered)."""
        given = variables or {}
        reads = self.reads.get((query, operation_name)) if query is not None else None
        if reads is not None and query is not None:
            known = self.costs.get((query, operation_name, self._sizes(reads, given)))
            if known is not None:
                return known
        cost, reads = self.model.priced(
            schema, document, operation_name=operation_name, variables=given
        )
        if query is not None:
            self.reads.put((query, operation_name), reads)
            self.costs.put((query, operation_name, self._sizes(reads, given)), cost)
        return cost

    def _sizes(self, names: tuple[str, ...], variables: Mapping[str, Any]) -> tuple[int, ...]:
        return tuple(self.model.page_size(variables.get(name)) for name in names)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


@dataclass(slots=True)
class _Walk:
    model: CostModel
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    read: dict[str, None]  # the variables page sizes were read from, in order

    def selection_set(
        self, parent: GraphQLObjectType, selections: SelectionSetNode, *, per_field: int = 0
    ) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection) + per_field
            else:
                fragment = self._fragment(selection)
                if fragment is None:
                    continue
                condition, selection_set = fragment
                target = parent
                if condition is not None:
                    found = self._schema_type(condition)
                    if isinstance(found, GraphQLObjectType):
                        target = found
                total += self.selection_set(target, selection_set)
        return total

    def field(self, parent: GraphQLObjectType, node: FieldNode) -> int:
        definition = parent.fields.get(node.name.value)
        if definition is None:  # __typename and friends
            return 0
        named = get_named_type(definition.type)
        weights = self.model.weights
        own = weights.fields.get(f"{parent.name}.{node.name.value}")
        if own is None:
            own = weights.object if is_composite_type(named) else weights.scalar
        if node.selection_set is None:
            return own
        target = named if isinstance(named, GraphQLObjectType) else None
        children = (
            self.selection_set(target, node.selection_set)
            if target is not None
            else self._abstract(node.selection_set)
        )
        page = self._sized(parent, node)
        if page is not None:
            return own + page * children  # one connection, `page` items under it
        if _is_list(definition.type) and not parent.name.endswith("Connection"):
            return self.model.weights.list_size * (own + children)
        return own + children  # one object, or a connection's edges (priced by its page)

    def _abstract(self, selections: SelectionSetNode) -> int:
        """Under an interface (node(id)): fragments price against their own type; plain
        fields are priced as objects, the dearest they could be."""
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self.model.weights.object
            else:
                fragment = self._fragment(selection)
                if fragment is None:
                    continue
                condition, selection_set = fragment
                found = self._schema_type(condition) if condition else None
                if isinstance(found, GraphQLObjectType):
                    total += self.selection_set(found, selection_set)
                else:
                    total += self._abstract(selection_set)
        return total

    def _sized(self, parent: GraphQLObjectType, node: FieldNode) -> int | None:
        """The page a field taking `first` returns (the default page when left out); None
        for a field without it."""
        for argument in node.arguments or ():
            if argument.name.value == PAGE_ARGUMENT:
                return self._page_size(argument.value)
        if PAGE_ARGUMENT in parent.fields[node.name.value].args:
            return self.model.default_page_size
        return None

    def _page_size(self, value: Any) -> int:
        if isinstance(value, VariableNode):
            self.read[value.name.value] = None
            return self.model.page_size(self.variables.get(value.name.value))
        if isinstance(value, IntValueNode):
            return self.model.page_size(int(value.value))
        return self.model.default_page_size

    def _fragment(self, selection: object) -> tuple[str | None, SelectionSetNode] | None:
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            return condition, selection.selection_set
        if isinstance(selection, FragmentSpreadNode):
            fragment = self.fragments.get(selection.name.value)
            if fragment is None:
                return None
            return fragment.type_condition.name.value, fragment.selection_set
        return None

    def _schema_type(self, name: str | None) -> object:
        return self.schema.get_type(name) if name else None


def _is_list(graphql_type: GraphQLOutputType) -> bool:
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    return isinstance(graphql_type, GraphQLList)
