"""The loop of a background task: run a batch, and wait only when it left nothing to do."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("apgraph.background")


async def repeat_until(
    stop: asyncio.Event,
    run_once: Callable[[], Awaitable[bool]],
    *,
    interval: float,
    wake: asyncio.Event | None = None,
) -> None:
    """Runs `run_once` back to back while it answers True (a full batch: more may wait), else
    every `interval` seconds, or as soon as `wake` is set, until `stop` is set; a run under
    way is finished, not cut."""
    while not stop.is_set():
        try:
            more = await run_once()
        except Exception:  # noqa: BLE001 - the background tasks' one boundary: log, keep going
            # A database restart or a bug in one batch must not end the task for good; the
            # next round tries again after the interval, and the log says what went wrong.
            log.exception("background run failed; trying again in %s s", interval)
            more = False
        if more:
            continue
        await _first_of(stop, wake, within=interval)
        if wake is not None:
            wake.clear()


async def _first_of(stop: asyncio.Event, wake: asyncio.Event | None, *, within: float) -> None:
    waits = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waits.append(asyncio.ensure_future(wake.wait()))
    try:
        await asyncio.wait(waits, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
