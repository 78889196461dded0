"""The fast path of reads: a query over the invoice graph answered without per-field execution.

graphql-core resolves every field of a response through strawberry's wrappers and our access
guards, one call each: a supplier's portal page is ~2,200 of them, and that, not SQL, was
most of its CPU (issue 19). Here an operation is planned once per document, operation and
principal's scopes and roles, after strawberry has parsed and validated it and after every
other extension's pre-execution check (limits, cost, persisted operations, rate limits) has
run: this is the last extension, and it only fills `execution_context.result` when no one
else has (strawberry's public way for an extension to answer an operation).

The plan decides governance per field once, not per row: a field whose scope the principal
lacks, a classified field's masking or audit, a type's runtime check. Data comes from the
same request loaders the resolvers use (so the same batched, row-scoped SQL) through the
fields' own `Batched` declarations (apgraph/schema/batched.py), one call per field per level
of the response rather than per row. Leaves are read as strawberry would read them (the
attribute) and serialized with the schema's own scalar and enum serializers.

A root field that can ask the database for its whole answer (`RootField.as_json`: the
invoice page on PostgreSQL) is sent the plan as stored names (`json_selection`) when every
field below it is a stored field (`schema.batched.stored`) that this principal reads
unmasked and unaudited; the database then builds the JSON the completion would have (issue
19: the objects and their completion were most of a portal page's CPU), and a selection it
does not render is completed here as any other.

Anything the planner does not know - introspection, mutations, subscriptions, interfaces and
unions, directives other than @skip/@include, arguments below the root, a resolver without a
declaration, a field the principal may not read - leaves the operation to the generic
executor, and so does any surprise while executing (a null where the schema says non-null,
an argument the resolver refuses): the generic executor then answers it, with its errors.
Nothing the fast path observed (classified reads) is kept when it gives up.
"""

import asyncio
import dataclasses
import keyword
import logging
from collections.abc import AsyncIterator, Callable, Hashable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson
from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_argument_values,
    get_directive_values,
    get_operation_ast,
    get_variable_values,
    is_leaf_type,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.cast import get_strawberry_type_cast
from strawberry.types.field import StrawberryField

from apgraph.domain.classified import mask
from apgraph.domain.principal import Principal
from apgraph.gateway.access import Guard, GuardedSchema
from apgraph.gateway.recent import Recent
from apgraph.schema.batched import BATCHED, ROOT, STORED, Batched, RootField
from apgraph.schema.context import Context
from apgraph.services.ports.reads import Selected, Selection

log = logging.getLogger("apgraph.fast_reads")

PLANS_KEPT = 512  # (document, operation, principal's scopes and roles) plans kept per schema
BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF  # a graphql-core type's strawberry definition
SKIP_AND_INCLUDE = frozenset({GraphQLSkipDirective.name, GraphQLIncludeDirective.name})


class Unsupported(Exception):
    """The planner does not answer this operation for this principal: the generic executor
    does."""


class GiveUp(Exception):
    """Something at execution the fast path leaves to the generic executor to answer."""


@dataclass(frozen=True, slots=True)
class Shape:
    """A field's output type as the fast path handles it: at most one list level."""

    non_null: bool
    is_list: bool
    item_non_null: bool
    named: GraphQLOutputType


@dataclass(slots=True)
class FieldPlan:
    key: str  # the response key (alias or name)
    typename: str | None  # set for __typename
    attribute: str | None  # the strawberry attribute read, for fields without a resolver
    batched: Batched | None  # for resolver fields
    shape: Shape | None
    serialize: Callable[[Any], Any] | None  # leaves
    child: "ObjectPlan | None"  # objects
    masked: bool  # a classified value this principal sees masked
    audited: str | None  # a classified field whose unmasked reads are audited ("Type.field")
    stored: str | None = None  # the stored name the database renders it by (schema `stored`)
    names: tuple[tuple[str, str], ...] | None = None  # an enum's: stored value, name
    plain: bool = False  # a leaf, no list, nothing classified: read and serialize
    text: bool = False  # a String or ID leaf: a str is its own serialization
    # an object read from the parent (no resolver, no list) whose completion waits for
    # nothing (Money): completed inline by the parent's completion, never as a column
    inline: bool = False

    def __post_init__(self) -> None:
        shape = self.shape
        self.inline = (
            self.child is not None
            and self.batched is None
            and shape is not None
            and not shape.is_list
            and not self.child.waits
        )
        if self.serialize is None or shape is None:
            return
        self.plain = not (shape.is_list or self.masked or self.audited)
        self.text = getattr(shape.named, "name", None) in ("String", "ID")


# complete(run, parent, columns, row): one parent's answer (see compile_completion)
Completion = Callable[..., dict[str, Any]]


@dataclass(slots=True)
class ObjectPlan:
    graphql_type: GraphQLObjectType
    fields: list[FieldPlan]
    waits: bool  # a batched field somewhere below: completing it awaits loaders
    # classes whose instances strawberry's is_type_of accepted: it decides by class unless
    # the instance was cast (strawberry.cast), so an uncast instance of one is accepted too
    accepted: set[type] = dataclasses.field(default_factory=set)
    complete: "Completion" = dataclasses.field(init=False)  # one parent (compile_completion)

    def __post_init__(self) -> None:
        self.complete = compile_completion(self)

    def check(self, value: Any) -> None:
        is_type_of = self.graphql_type.is_type_of
        if is_type_of is None:  # a type that implements no interface: graphql-core checks none
            return
        if type(value) in self.accepted and get_strawberry_type_cast(value) is None:
            return
        # strawberry's is_type_of ignores its info; there is none before execution
        if not is_type_of(value, None):  # type: ignore[arg-type]
            raise GiveUp(f"{type(value).__name__} is not a {self.graphql_type.name}")
        if get_strawberry_type_cast(value) is None:
            self.accepted.add(type(value))


@dataclass(slots=True)
class RootPlan:
    key: str
    node: FieldNode | None  # None for __typename
    field: GraphQLField | None
    declared: RootField | None
    strawberry_field: StrawberryField | None
    shape: Shape | None
    child: ObjectPlan | None
    serialize: Callable[[Any], Any] | None
    # what the database builds as JSON (`RootField.as_json`), when it may build the answer
    selection: Selection | None = None


@dataclass(slots=True)
class Plan:
    roots: list[RootPlan]
    selects: frozenset[object] = frozenset()  # every batched field below (Context.selects)

    def __post_init__(self) -> None:
        found: set[object] = set()
        pending = [root.child for root in self.roots if root.child is not None]
        while pending:
            for field in pending.pop().fields:
                if field.batched is not None:
                    found.add(field.batched)
                if field.child is not None:
                    pending.append(field.child)
        self.selects = frozenset(found)


def shape_of(output: GraphQLOutputType) -> Shape:
    non_null = isinstance(output, GraphQLNonNull)
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    if not isinstance(inner, GraphQLList):
        return Shape(non_null, False, False, inner)
    item = inner.of_type
    item_non_null = isinstance(item, GraphQLNonNull)
    item = item.of_type if isinstance(item, GraphQLNonNull) else item
    if isinstance(item, GraphQLList):
        raise Unsupported("lists of lists")
    return Shape(non_null, True, item_non_null, item)


class Planner:
    """Plans one operation for one principal over one schema (see the module docstring)."""

    def __init__(
        self,
        schema: GuardedSchema,
        graphql_schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Any,
        principal: Principal,
    ) -> None:
        self.schema = schema
        self.graphql_schema = graphql_schema
        self.variables = variables
        self.principal = principal
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.operation = operation

    def plan(self) -> Plan:
        query = self.graphql_schema.query_type
        if query is None:
            raise Unsupported("no query type")
        roots = []
        for key, nodes in self.collect(query, [self.operation.selection_set]).items():
            name = nodes[0].name.value
            if name == "__typename":
                roots.append(RootPlan(key, None, None, None, None, None, None, None))
                continue
            if name not in query.fields:
                raise Unsupported(f"{name}: introspection")
            field = query.fields[name]
            strawberry_field = self.strawberry_field(query, name, field)
            declared = strawberry_field.metadata.get(ROOT)
            if not isinstance(declared, RootField):
                raise Unsupported(f"Query.{name} has no fast path")
            if self.decide(query.name, name) != (False, None):
                raise Unsupported(f"Query.{name} is classified")
            shape = shape_of(field.type)
            child, serialize = self.completion(shape, nodes)
            selection = (
                json_selection(child)
                if declared.as_json is not None and child is not None
                else None
            )
            roots.append(
                RootPlan(
                    key,
                    nodes[0],
                    field,
                    declared,
                    strawberry_field,
                    shape,
                    child,
                    serialize,
                    selection,
                )
            )
        return Plan(roots)

    def strawberry_field(
        self, parent: GraphQLObjectType, name: str, field: GraphQLField
    ) -> StrawberryField:
        definition = (field.extensions or {}).get(BACKREF)
        if not isinstance(definition, StrawberryField):
            raise Unsupported(f"{parent.name}.{name} is not a strawberry field")
        if definition.permission_classes or any(
            not isinstance(extension, Guard) for extension in definition.extensions
        ):
            raise Unsupported(f"{parent.name}.{name} runs field extensions")
        return definition

    def decide(self, type_name: str, field_name: str) -> tuple[bool, str | None]:
        """The field's access decision for this principal: (masked, audited field name).
        A refused field is not planned: the generic executor refuses it, and audits that."""
        guard = self.schema.guards.get((type_name, field_name))
        if guard is None:
            return False, None
        if guard.scope is not None and guard.scope not in self.principal.scopes:
            raise Unsupported(f"{guard.name} is refused to this principal")
        rule = guard.classified
        if rule is None:
            return False, None
        if not rule.shown_whole_to(scopes=self.principal.scopes, roles=self.principal.roles):
            return True, None
        return False, guard.name if rule.audit_reads else None

    def completion(
        self, shape: Shape, nodes: list[FieldNode]
    ) -> tuple["ObjectPlan | None", Callable[[Any], Any] | None]:
        named = shape.named
        if isinstance(named, GraphQLEnumType):
            return None, enum_serializer(named)
        if is_leaf_type(named):
            return None, named.serialize  # type: ignore[attr-defined]
        if isinstance(named, GraphQLObjectType):
            return self.object_plan(named, nodes), None
        raise Unsupported(f"{named} is abstract")

    def object_plan(self, graphql_type: GraphQLObjectType, nodes: list[FieldNode]) -> ObjectPlan:
        selections = [node.selection_set for node in nodes if node.selection_set is not None]
        fields = []
        waits = False
        for key, field_nodes in self.collect(graphql_type, selections).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                fields.append(
                    FieldPlan(key, graphql_type.name, None, None, None, None, None, False, None)
                )
                continue
            if any(node.arguments for node in field_nodes):
                raise Unsupported(f"{graphql_type.name}.{name} takes arguments")
            field = graphql_type.fields[name]
            strawberry_field = self.strawberry_field(graphql_type, name, field)
            masked, audited = self.decide(graphql_type.name, name)
            shape = shape_of(field.type)
            child, serialize = self.completion(shape, field_nodes)
            if (masked or audited) and (child is not None or shape.is_list):
                raise Unsupported(f"{graphql_type.name}.{name}: classified and not a scalar")
            batched = None
            attribute = None
            if strawberry_field.base_resolver is None:
                attribute = strawberry_field.python_name
            else:
                batched = strawberry_field.metadata.get(BATCHED)
                if batched is None:
                    raise Unsupported(f"{graphql_type.name}.{name} resolves one parent at a time")
                waits = True
            waits = waits or (child is not None and child.waits)
            stored = strawberry_field.python_name if strawberry_field.metadata.get(STORED) else None
            fields.append(
                FieldPlan(
                    key,
                    None,
                    attribute,
                    batched,
                    shape,
                    serialize,
                    child,
                    masked,
                    audited,
                    stored,
                    enum_names(shape.named) if isinstance(shape.named, GraphQLEnumType) else None,
                )
            )
        return ObjectPlan(graphql_type, fields, waits)

    def collect(
        self, parent: GraphQLObjectType, selections: Sequence[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """graphql-core's field collection: response keys in first-seen order, fragments
        whose condition the type meets, @skip/@include decided."""
        fields: dict[str, list[FieldNode]] = {}
        seen: set[str] = set()

        def walk(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self.included(selection):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self.applies(selection.type_condition, parent):
                        walk(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in seen:
                        continue
                    seen.add(name)
                    fragment = self.fragments[name]
                    if self.applies(fragment.type_condition, parent):
                        walk(fragment.selection_set)
                else:
                    raise Unsupported(f"selection {selection.kind}")

        for selection_set in selections:
            walk(selection_set)
        return fields

    def included(self, node: Any) -> bool:
        if not node.directives:
            return True
        if any(d.name.value not in SKIP_AND_INCLUDE for d in node.directives):
            raise Unsupported("directives other than @skip and @include")
        skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        return not (include and include.get("if") is False)

    def applies(self, condition: Any, parent: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        name = condition.name.value
        if name == parent.name:
            return True
        possible = self.graphql_schema.get_type(name)
        if isinstance(possible, GraphQLInterfaceType):
            return any(interface.name == name for interface in parent.interfaces)
        if isinstance(possible, GraphQLUnionType):
            return any(member.name == parent.name for member in possible.types)
        return False


class Run:
    """One execution of a plan for one request."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.classified_reads: list[tuple[str, str | None]] = []
        self.built_by_database: list[str] = []  # the root keys answered as the database built

    async def roots(self, plan: Plan, schema: GuardedSchema, variables: Any) -> dict[str, Any]:
        self.context.selects = plan.selects

        async def one(root: RootPlan) -> Any:
            if root.node is None:
                return "Query"
            assert root.field
            assert root.strawberry_field
            assert root.declared
            assert root.shape
            given = get_argument_values(root.field, root.node, variables)
            arguments = convert_arguments(
                given,
                root.strawberry_field.arguments,
                scalar_registry=schema.schema_converter.scalar_registry,
                config=schema.config,
            )
            if root.selection is not None and root.declared.as_json is not None:
                text = await root.declared.as_json(self.context, root.selection, **arguments)
                if text is not None:
                    self.built_by_database.append(root.key)
                    return orjson.Fragment(text) if self.context.embeds_json else orjson.loads(text)
            value = await root.declared.resolve(self.context, **arguments)
            return (await self.column(root.shape, root.child, root.serialize, [value]))[0]

        values = await asyncio.gather(*(one(root) for root in plan.roots))
        return {root.key: value for root, value in zip(plan.roots, values, strict=True)}

    async def objects(self, plan: ObjectPlan, parents: list[Any]) -> list[dict[str, Any]]:
        for parent in parents:
            plan.check(parent)
        columns: dict[int, list[Any]] = {}
        waiting: list[tuple[int, Any]] = []
        for index, field in enumerate(plan.fields):
            if field.batched is not None:
                waiting.append((index, self.batched_column(field, parents)))
            elif field.child is not None and not field.inline:
                assert field.attribute is not None
                assert field.shape is not None
                values = [getattr(parent, field.attribute) for parent in parents]
                if field.child.waits:
                    waiting.append((index, self.column(field.shape, field.child, None, values)))
                else:
                    columns[index] = self.column_now(field.shape, field.child, values)
        if waiting:
            done = await asyncio.gather(*(work for _, work in waiting))
            for (index, _), column in zip(waiting, done, strict=True):
                columns[index] = column
        complete = plan.complete
        return [complete(self, parent, columns, row) for row, parent in enumerate(parents)]

    def objects_now(self, plan: ObjectPlan, parents: list[Any]) -> list[dict[str, Any]]:
        """`objects` for a plan that waits for nothing (Money, PageInfo)."""
        complete = plan.complete
        return [complete(self, parent) for parent in parents]

    async def batched_column(self, field: FieldPlan, parents: list[Any]) -> list[Any]:
        assert field.batched is not None
        assert field.shape is not None
        values = await field.batched.resolve_many(parents, self.context)
        if field.child is None:
            return [self.leaf(field, p, v) for p, v in zip(parents, values, strict=True)]
        return await self.column(field.shape, field.child, None, values)

    async def column(
        self,
        shape: Shape,
        child: ObjectPlan | None,
        serialize: Callable[[Any], Any] | None,
        values: list[Any],
    ) -> list[Any]:
        if child is None:
            assert serialize is not None
            return [self.plain_leaf(shape, serialize, value) for value in values]
        children = self.flatten(shape, values)
        completed = (
            await self.objects(child, children)
            if child.waits
            else self.objects_now(child, children)
        )
        return self.regroup(shape, values, completed)

    def column_now(self, shape: Shape, child: ObjectPlan, values: list[Any]) -> list[Any]:
        return self.regroup(shape, values, self.objects_now(child, self.flatten(shape, values)))

    @staticmethod
    def flatten(shape: Shape, values: list[Any]) -> list[Any]:
        children = []
        for value in values:
            if value is None:
                if shape.non_null:
                    raise GiveUp("null in a non-null field")
                continue
            if shape.is_list:
                if not isinstance(value, list | tuple):
                    raise GiveUp("a list field answered something else")
                for item in value:
                    if item is None:
                        if shape.item_non_null:
                            raise GiveUp("null in a non-null list item")
                    else:
                        children.append(item)
            else:
                children.append(value)
        return children

    @staticmethod
    def regroup(shape: Shape, values: list[Any], completed: list[Any]) -> list[Any]:
        answers = iter(completed)
        column: list[Any] = []
        for value in values:
            if value is None:
                column.append(None)
            elif shape.is_list:
                column.append([None if item is None else next(answers) for item in value])
            else:
                column.append(next(answers))
        return column

    def leaf(self, field: FieldPlan, source: Any, value: Any) -> Any:
        if field.plain and value is not None:  # most leaves: read, serialize, done
            if field.text and type(value) is str:  # what String's and ID's serializers answer
                return value
            answer = field.serialize(value)  # type: ignore[misc]
            if answer is None:
                raise GiveUp("a leaf serialized to nothing")
            return answer
        shape = field.shape
        assert shape is not None
        assert field.serialize is not None
        if value is None:
            if shape.non_null:
                raise GiveUp(f"null in non-null {field.key}")
            return None
        if field.masked:
            value = mask(str(value))
        elif field.audited is not None:
            self.classified_reads.append((field.audited, getattr(source, "owner_id", None)))
        return self.plain_leaf(shape, field.serialize, value)

    @staticmethod
    def plain_leaf(shape: Shape, serialize: Callable[[Any], Any], value: Any) -> Any:
        if value is None:
            if shape.non_null:
                raise GiveUp("null in a non-null leaf")
            return None
        if shape.is_list:
            if not isinstance(value, list | tuple):
                raise GiveUp("a list field answered something else")
            items: list[Any] = []
            for item in value:
                if item is None:
                    if shape.item_non_null:
                        raise GiveUp("null in a non-null list item")
                    items.append(None)
                else:
                    items.append(Run.serialized(serialize, item))
            return items
        return Run.serialized(serialize, value)

    @staticmethod
    def serialized(serialize: Callable[[Any], Any], value: Any) -> Any:
        answer = serialize(value)
        if answer is None:
            raise GiveUp("a leaf serialized to nothing")  # graphql-core's error, not ours
        return answer


def compile_completion(plan: ObjectPlan) -> Completion:
    """How one parent of a plan is completed, as one generated function:
    `complete(run, parent, columns, row)` reads each field and answers the response keys in
    order. A plan that waits for nothing also checks the parent's type and completes its
    child objects inline (`columns` is not used); a plan that waits takes its batched fields
    and its other child objects from `columns` (each field's answers for the whole level, by
    index of field, then of parent), which `Run.objects` loaded and checked the parents for
    first, but still completes inline an object that waits for nothing (`FieldPlan.inline`:
    an invoice's amounts), as three columns of 50 Money each cost a flatten and a regroup.

    A portal page completes ~700 objects (invoices, amounts, lines, the related supplier, PO
    and cost center), and walking their field plans one by one (a branch, a getattr and a
    call per field) was the largest share of the fast path's CPU (issue 19). The generated
    code reads each attribute and passes each string and Int through inline, as `dataclasses`
    generates `__init__`; whatever is off that path (a null, a leaf to serialize that
    serializes to nothing, a masked or audited field, a list) goes through the same `Run`
    methods (`leaf`, `column_now`) for every plan. Only `repr`s of names and Python
    identifiers are written into the source; the values it uses are passed in by name.
    """
    names: dict[str, Any] = {
        "GiveUp": GiveUp,
        "cast_of": get_strawberry_type_cast,
        "plan": plan,
        "accepted": plan.accepted,
        "MIN_INT": GRAPHQL_MIN_INT,
        "MAX_INT": GRAPHQL_MAX_INT,
    }
    source = ["def complete(run, parent, columns=None, row=0):"]
    if not plan.waits and plan.graphql_type.is_type_of is not None:  # see `check`
        source += [
            "    if type(parent) not in accepted or cast_of(parent) is not None:",
            "        plan.check(parent)",
        ]
    answer = []
    for index, field in enumerate(plan.fields):
        value, this = f"v{index}", f"field{index}"
        names[this] = field
        answer.append(f"{field.key!r}: {value}")
        if field.typename is not None:
            source.append(f"    {value} = {field.typename!r}")
            continue
        if (
            plan.waits
            and (field.batched is not None or field.child is not None)
            and not field.inline
        ):
            source.append(f"    {value} = columns[{index}][row]")
            continue
        attribute = field.attribute
        assert attribute is not None  # a field without a resolver
        if attribute.isidentifier() and not keyword.iskeyword(attribute):
            source.append(f"    {value} = parent.{attribute}")
        else:
            source.append(f"    {value} = getattr(parent, {this}.attribute)")
        if field.child is None and field.plain and field.text:
            source += [
                f"    if type({value}) is not str:",
                f"        {value} = run.leaf({this}, parent, {value})",
            ]
        elif field.child is None and field.plain and field.serialize is GraphQLInt.serialize:
            source += [  # an int within Int's 32 bits is its own serialization
                f"    if type({value}) is not int or not MIN_INT <= {value} <= MAX_INT:",
                f"        {value} = run.leaf({this}, parent, {value})",
            ]
        elif field.child is None and field.plain:
            names[f"serialize{index}"] = field.serialize
            source += [
                f"    if {value} is None:",
                f"        {value} = run.leaf({this}, parent, None)",
                "    else:",
                f"        {value} = serialize{index}({value})",
                f"        if {value} is None:",
                "            raise GiveUp('a leaf serialized to nothing')",
            ]
        elif field.child is None:
            source.append(f"    {value} = run.leaf({this}, parent, {value})")
        elif field.shape is not None and not field.shape.is_list:
            source += [
                f"    if {value} is None:",
                f"        {value} = run.column_now({this}.shape, {this}.child, [None])[0]",
                "    else:",
                f"        {value} = {this}.child.complete(run, {value})",
            ]
        else:
            source.append(f"    {value} = run.column_now({this}.shape, {this}.child, [{value}])[0]")
    source.append("    return {" + ", ".join(answer) + "}")
    # named for profilers; aliases enter only as repr() literals (see above)
    exec(compile("\n".join(source), f"<fast path: {plan.graphql_type.name}>", "exec"), names)
    complete: Completion = names["complete"]
    return complete


def json_selection(plan: ObjectPlan) -> Selection | None:
    """The plan as the database would build it (`RootField.as_json`): every field a stored
    name, none masked or audited (those the fast path decides and records itself); None
    otherwise."""
    selected = []
    for field in plan.fields:
        if field.typename is not None:
            selected.append(Selected(field.key, constant=field.typename))
            continue
        if field.stored is None or field.masked or field.audited is not None:
            return None
        fields = None
        if field.child is not None:
            fields = json_selection(field.child)
            if fields is None:
                return None
        selected.append(Selected(field.key, field.stored, fields, field.names))
    return tuple(selected)


def enum_names(enum_type: GraphQLEnumType) -> tuple[tuple[str, str], ...] | None:
    """An enum's stored values and the names they serialize to (a stored enum is its
    members' values); None for an enum strawberry did not make from a Python Enum."""
    definition = (enum_type.extensions or {}).get(BACKREF)
    wrapped = getattr(definition, "wrapped_cls", None)
    if not (isinstance(wrapped, type) and issubclass(wrapped, Enum)):
        return None
    names = []
    for member in wrapped:
        name = enum_type.serialize(member)
        if not isinstance(member.value, str) or not isinstance(name, str):
            return None
        names.append((member.value, name))
    return tuple(names)


def enum_serializer(enum_type: GraphQLEnumType) -> Callable[[Any], Any]:
    """The enum's own serializer, remembered per member: a member always serializes to the
    same name (a page serializes the same few statuses hundreds of times)."""
    serialize = enum_type.serialize
    # by the member's identity: an Enum hashes through a Python-level __hash__, which cost
    # more than the lookup it serves; the member kept beside its name keeps its id unique
    names: dict[int, tuple[Enum, Any]] = {}

    def serialize_member(value: Any) -> Any:
        known = names.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        answer = serialize(value)
        if isinstance(value, Enum) and answer is not None:
            names[id(value)] = (value, answer)
        return answer

    return serialize_member


PlanKey = tuple[Hashable, ...]


class FastReads:
    """The plans of one schema, and the attempt to answer an operation with them."""

    def __init__(self, plans_kept: int = PLANS_KEPT) -> None:
        self.plans: Recent[PlanKey, Plan | None] = Recent(plans_kept)
        # by query text: the variables its @skip/@include directives read
        self.switched: Recent[str, tuple[str, ...]] = Recent(plans_kept)
        self.graphql_schema: GraphQLSchema | None = None  # the schema's, on first use

    async def answer(
        self,
        schema: GuardedSchema,
        document: DocumentNode,
        query: str,
        operation_name: str | None,
        raw_variables: dict[str, Any] | None,
        context: Context,
    ) -> dict[str, Any] | None:
        """The operation's `data`, or None: the generic executor must answer it."""
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        if not query:  # plans are kept by the text: without one, the generic executor answers
            return None
        if self.graphql_schema is None:
            try:
                self.graphql_schema = executing_schema(schema)
            except Exception:  # noqa: BLE001  # then the generic executor answers everything
                log.warning("the fast path cannot read this schema's types", exc_info=True)
                return None
        variables = get_variable_values(
            self.graphql_schema, operation.variable_definitions or (), raw_variables or {}
        )
        if isinstance(variables, list):  # coercion errors: the generic executor words them
            return None
        plan = self.plan(schema, document, query, operation, raw_variables, variables, context)
        if plan is None:
            return None
        run = Run(context)
        try:
            data = await run.roots(plan, schema, variables)
        except GiveUp as reason:
            log.debug("fast path gave up: %s", reason)
            return None
        except Exception:  # noqa: BLE001  # the generic executor answers, and words the error
            log.debug("fast path failed; the generic executor answers", exc_info=True)
            return None
        context.classified_reads.extend(run.classified_reads)
        log.debug(
            "answered %s through the fast path%s",
            operation_name or "anonymous",
            f" ({', '.join(run.built_by_database)} built by the database)"
            if run.built_by_database
            else "",
        )
        return data

    def plan(
        self,
        schema: GuardedSchema,
        document: DocumentNode,
        query: str,
        operation: OperationDefinitionNode,
        raw_variables: dict[str, Any] | None,
        variables: Any,
        context: Context,
    ) -> Plan | None:
        principal = context.principal
        names = self.switched.get(query)
        if names is None:  # the document's walk, once per text (a few % of a page's CPU)
            names = tuple(sorted(variables_in_directives(document)))
            self.switched.put(query, names)
        switches = directive_switches(names, raw_variables)
        if switches is None:
            return None
        key: PlanKey = (
            query,
            operation.name.value if operation.name else None,
            principal.scopes,
            principal.roles,
            switches,
        )
        if key in self.plans:
            return self.plans.get(key)
        try:
            assert self.graphql_schema is not None
            plan: Plan | None = Planner(
                schema, self.graphql_schema, document, operation, variables, principal
            ).plan()
        except Unsupported as reason:
            log.debug("no fast path: %s", reason)
            plan = None
        except Exception:  # noqa: BLE001  # a planner bug must not cost the caller an answer
            log.warning("the fast path could not plan an operation", exc_info=True)
            plan = None
        self.plans.put(key, plan)
        return plan


def executing_schema(schema: GuardedSchema) -> GraphQLSchema:
    """The types strawberry executes with, gathered into a graphql-core schema through its
    public converter (strawberry keeps its own schema private): the very same type objects,
    so variables coerce and leaves serialize exactly as in execution, and each field still
    carries its strawberry definition (with its access guard)."""
    types = {
        name: concrete.implementation for name, concrete in schema.schema_converter.type_map.items()
    }
    query = types.get("Query")
    if not isinstance(query, GraphQLObjectType):
        raise Unsupported("no query type")
    named = [type_ for type_ in types.values() if isinstance(type_, GraphQLNamedType)]
    return GraphQLSchema(query=query, types=named)


def directive_switches(
    names: Sequence[str], raw: dict[str, Any] | None
) -> tuple[Hashable, ...] | None:
    """The values of the variables `names` that @skip/@include read (they change the plan);
    None when one is not a plain boolean (the generic executor answers)."""
    values = tuple((raw or {}).get(name) for name in names)
    if any(value is not None and not isinstance(value, bool) for value in values):
        return None
    return tuple(zip(names, values, strict=True))


def variables_in_directives(document: DocumentNode) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        for directive in getattr(node, "directives", None) or ():
            for argument in directive.arguments:
                if isinstance(argument.value, VariableNode):
                    found.add(argument.value.name.value)
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            for selection in selection_set.selections:
                walk(selection)

    for definition in document.definitions:
        walk(definition)
    return found


class FastReadsExtension(SchemaExtension):
    """Answers a query through `FastReads` when it can; strawberry's executor otherwise.
    Listed last, so every other extension's pre-execution check has run first."""

    def __init__(self, *, fast: FastReads) -> None:
        self.fast = fast

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        schema = execution.schema
        context = execution.context
        if (
            execution.result is None
            and execution.graphql_document is not None
            and isinstance(schema, GuardedSchema)
            and isinstance(context, Context)
        ):
            data = await self.fast.answer(
                schema,
                execution.graphql_document,
                execution.query or "",
                execution.operation_name,
                execution.variables,
                context,
            )
            if data is not None:
                execution.result = ExecutionResult(data=data, errors=None)
        yield
