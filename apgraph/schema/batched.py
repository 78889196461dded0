"""Resolver fields that can answer many parents at once, for the fast path of reads.

A field declares how it is loaded (`Loaded`: a key of the parent, one of the request's
loaders, and how the loaded rows become the field's value) and carries that declaration in
its strawberry `metadata`. Its strawberry resolver answers one parent through `resolve`; the
fast path (apgraph/gateway/fast_reads.py) answers every parent of a level through
`resolve_many`, with the same loader (so the same batched, row-scoped SQL) and the same
conversion, so the two cannot drift apart.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from apgraph.schema.context import Context
from apgraph.schema.loaders import Loaders

BATCHED = "apgraph.batched"  # the metadata key of a field's `Batched` declaration
ROOT = "apgraph.root"  # the metadata key of a root field's `RootField` declaration
STORED = "apgraph.stored"  # the metadata key that marks a field as stored (`stored`)

T = TypeVar("T")
Parent = TypeVar("Parent")
Loaded_ = TypeVar("Loaded_")
Value = TypeVar("Value")


class Batched(Protocol):
    """A resolver field answered for a whole level of parents at once."""

    async def resolve_many(self, parents: Sequence[Any], context: Context) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class Loaded(Generic[Parent, Loaded_, Value]):
    """A field loaded by a key of its parent; `key` None: nothing to load (`build` gets None).
    `shared`: `build` reads only what was loaded, never the parent, so parents with the same
    key share one built value (a page of one supplier's invoices builds its supplier once)."""

    key: Callable[[Parent], str | None]
    loader: Callable[[Loaders], DataLoader[str, Loaded_]]
    build: Callable[[Parent, Loaded_ | None], Value]
    shared: bool = False

    async def resolve(self, parent: Parent, context: Context) -> Value:
        key = self.key(parent)
        found = None if key is None else await self.loader(context.loaders).load(key)
        return self.build(parent, found)

    async def resolve_many(self, parents: Sequence[Parent], context: Context) -> list[Value]:
        keys = [self.key(parent) for parent in parents]
        wanted = list(dict.fromkeys(key for key in keys if key is not None))  # each key once
        loader = self.loader(context.loaders)
        found = await settled([loader.load(key) for key in wanted])
        by_key = dict(zip(wanted, found, strict=True))
        if not self.shared:
            return [
                self.build(parent, None if key is None else by_key[key])
                for parent, key in zip(parents, keys, strict=True)
            ]
        built: dict[str | None, Value] = {}
        values = []
        for parent, key in zip(parents, keys, strict=True):
            if key not in built:
                built[key] = self.build(parent, None if key is None else by_key[key])
            values.append(built[key])
        return values


async def settled(pending: list[Awaitable[T]]) -> list[T]:
    """The answers of loads started together, awaited in turn rather than through
    `asyncio.gather` (what `DataLoader.load_many` does): they settle in the same batch, so
    this suspends once, where gather added a done-callback per key (~110 on a portal page,
    a few percent of its CPU; issue 19). When one fails, the failures of the others are
    retrieved too, as gather would, so asyncio reports none as never retrieved."""
    try:
        return [await each for each in pending]
    except BaseException:
        for each in pending:
            if asyncio.isfuture(each) and each.done() and not each.cancelled():
                each.exception()
        raise


@dataclass(frozen=True, slots=True)
class EachParent(Generic[Parent, Value]):
    """A field computed per parent (a count, say), run concurrently for a level."""

    compute: Callable[[Parent, Context], Awaitable[Value]]

    async def resolve(self, parent: Parent, context: Context) -> Value:
        return await self.compute(parent, context)

    async def resolve_many(self, parents: Sequence[Parent], context: Context) -> list[Value]:
        if len(parents) == 1:
            return [await self.compute(parents[0], context)]
        return list(await asyncio.gather(*(self.compute(p, context) for p in parents)))


@dataclass(frozen=True, slots=True)
class Computed(Generic[Parent, Value]):
    """A field computed from its parent alone, with no load (a sealed value checked, say);
    `compute` raises where the resolver would report an error, and the fast path then
    leaves the operation to the generic executor, which reports it."""

    compute: Callable[[Parent], Value]

    async def resolve_many(self, parents: Sequence[Parent], context: Context) -> list[Value]:
        return [self.compute(parent) for parent in parents]


@dataclass(frozen=True, slots=True)
class RootField:
    """A root query field the fast path may answer: `resolve(context, **arguments)` is the
    field's whole resolver, with strawberry's converted arguments. `as_json(context,
    selection, **arguments)`, when given, asks the database for the field's whole answer as
    JSON text for a selection of stored names (services/ports/reads.py `Selected`), or None
    where it cannot build it: the fast path then resolves and completes it itself."""

    resolve: Callable[..., Awaitable[Any]]
    as_json: Callable[..., Awaitable[str | None]] | None = None


def batched(field: Batched) -> dict[str, Any]:
    """The `metadata` of a field answered through `field`."""
    return {BATCHED: field}


def stored() -> dict[str, Any]:
    """The `metadata` of a field whose value is the stored value or relation of its parent's
    record by the field's own (Python) name, as the database may render it in JSON
    (`RootField.as_json`)."""
    return {STORED: True}


def stored_field(description: str) -> Any:
    """A plain field that is `stored`: its value is its parent's attribute of that name."""
    return strawberry.field(metadata=stored(), description=description)


def root(field: RootField) -> dict[str, Any]:
    """The `metadata` of a root field the fast path may answer."""
    return {ROOT: field}
