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

from apgraph.policies.products import CostWeights

PAGE_ARGUMENT = "first"


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
        fragments = {
            node.name.value: node
            for node in document.definitions
            if isinstance(node, FragmentDefinitionNode)
        }
        operation = _operation(document, operation_name)
        if operation is None:
            return 0
        root = schema.get_root_type(operation.operation)
        if root is None:
            return 0
        walk = _Walk(self, schema, fragments, variables or {})
        extra = self.weights.mutation if operation.operation is OperationType.MUTATION else 0
        return walk.selection_set(root, operation.selection_set, per_field=extra)


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
            raw = self.variables.get(value.name.value)
        elif isinstance(value, IntValueNode):
            raw = int(value.value)
        else:
            raw = None
        if not isinstance(raw, int) or isinstance(raw, bool):
            return self.model.default_page_size
        return max(0, min(raw, self.model.max_page_size))

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
