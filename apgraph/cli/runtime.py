"""Commands that work on the server's own parts: a Runtime opened for one piece of work.

Opened on the command's settings and gateway.yaml, closed after the work whatever it raised;
a configuration that cannot start is one line and exit status 1, as `serve` says it.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from apgraph.cli.options import fail
from apgraph.gateway.runtime import Runtime
from apgraph.gateway.startup import StartupError, load_config
from apgraph.settings import Settings

T = TypeVar("T")


def on_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """What `work` returns; any other error than a StartupError propagates to the caller."""

    async def run() -> T:
        runtime = Runtime.open(settings, load_config(settings))
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(run())
    except StartupError as error:
        fail(str(error))
