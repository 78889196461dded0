"""`Loaded.resolve_many` (the fast path's loading of a level): each key is loaded once, and
a `shared` field builds one value per key for all the parents that have it."""

import asyncio
import gc
from types import SimpleNamespace
from typing import Any

from strawberry.dataloader import DataLoader

from apgraph.schema.batched import Loaded


def counting(batches: list[list[str]]) -> DataLoader[str, str]:
    async def load(keys: list[str]) -> list[str]:
        batches.append(list(keys))
        return [f"row {key}" for key in keys]

    return DataLoader(load_fn=load)


def field(*, shared: bool, built: list[tuple[Any, Any]]) -> Loaded[dict[str, Any], str, Any]:
    def build(parent: dict[str, Any], found: str | None) -> Any:
        built.append((parent["id"], found))
        return {"value": found}

    return Loaded(
        key=lambda parent: parent["key"],
        loader=lambda loaders: loaders.rows,  # type: ignore[attr-defined]
        build=build,
        shared=shared,
    )


PARENTS = [
    {"id": 1, "key": "a"},
    {"id": 2, "key": "b"},
    {"id": 3, "key": "a"},
    {"id": 4, "key": None},
    {"id": 5, "key": "a"},
]


async def test_a_shared_field_loads_and_builds_once_per_key() -> None:
    batches: list[list[str]] = []
    built: list[tuple[Any, Any]] = []
    context: Any = SimpleNamespace(loaders=SimpleNamespace(rows=counting(batches)))
    values = await field(shared=True, built=built).resolve_many(PARENTS, context)
    assert batches == [["a", "b"]]
    assert built == [(1, "row a"), (2, "row b"), (4, None)]  # by the first parent of each key
    assert [value["value"] for value in values] == ["row a", "row b", "row a", None, "row a"]
    assert values[0] is values[2] is values[4]


async def test_an_unshared_field_builds_per_parent_from_keys_loaded_once() -> None:
    batches: list[list[str]] = []
    built: list[tuple[Any, Any]] = []
    context: Any = SimpleNamespace(loaders=SimpleNamespace(rows=counting(batches)))
    values = await field(shared=False, built=built).resolve_many(PARENTS, context)
    assert batches == [["a", "b"]]
    assert [parent for parent, _ in built] == [1, 2, 3, 4, 5]
    assert [value["value"] for value in values] == ["row a", "row b", "row a", None, "row a"]
    assert values[0] is not values[2]


async def test_a_failed_batch_fails_the_level_and_leaves_no_failure_unretrieved() -> None:
    # given a loader whose batch fails, as a lost database connection would
    async def load(keys: list[str]) -> list[str]:
        raise ConnectionError("the database went away")

    unretrieved: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, report: unretrieved.append(report))
    context: Any = SimpleNamespace(loaders=SimpleNamespace(rows=DataLoader(load_fn=load)))

    # when a level of parents loads through it
    failed: type[BaseException] | None = None
    try:
        await field(shared=False, built=[]).resolve_many(PARENTS, context)
    except ConnectionError as error:  # not kept: its traceback would keep the futures alive
        failed = type(error)
    del context  # the loader and its cached futures go
    await asyncio.sleep(0)  # and the callbacks the loop still held for them
    gc.collect()

    # then the level fails, and asyncio reports no future whose failure nobody read
    loop.set_exception_handler(None)
    assert failed is ConnectionError
    assert unretrieved == []
