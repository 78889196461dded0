"""Benchmark: server CPU and garbage-collection time per portal page, in one process.

Run from the repository root (`-m`, so that its apgraph is the one imported). Builds
the app as `apgraph serve` does (from the APGRAPH_* environment), runs its start-up,
and sends the portal page (bench/portal_page.py's query) through the ASGI interface, so the
numbers hold apart from the HTTP client and from other tenants of a shared machine:

    APGRAPH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/apgraph_bench \\
    APGRAPH_ENVIRONMENT=production python -m bench.portal_cpu --token "$(apgraph token \\
        --role supplier --supplier SUP-000001)" --supplier SUP-000001

Set APGRAPH_EXPOSE_SQL_STATEMENTS=true to count statements too. Unless APGRAPH_GATEWAY_CONFIG
is set, the products' per-minute budgets are raised (bench/unthrottled.py: else most pages
would be 429s); every page is checked to be a full, error-free one. Background loops run
unless their intervals are set to 0 (APGRAPH_RELAY_INTERVAL_SECONDS=0 and the like), and their
CPU counts. `--profile FILE` writes a cProfile of the measured pages (read it with pstats).
`--callgrind` counts instructions of the measured pages only (run under valgrind with
instrumentation off at start: bench/portal_instructions.sh does it and prints them per page):
on a machine whose speed moves from minute to minute, the number that repeats.
Runs on uvloop when installed, as `apgraph serve` does.
`--gc-threshold 700,10,10` replaces the collector thresholds after start-up (to compare).
"""

import argparse
import asyncio
import cProfile
import gc
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from apgraph.gateway.app import create_app_from_environment
from bench.portal_page import PORTAL_PAGE
from bench.unthrottled import unthrottled_gateway_config

BATCH = 20  # pages per run of the best-run figure
# --request-only: the same endpoint, token and variables, but the query selects nothing to
# read (the page is skipped): what the request around the page costs (HTTP client, middleware,
# strawberry's pipeline and extensions)
REQUEST_ONLY = (
    "query PortalPage($supplier: ID!, $first: Int!) { __typename "
    "invoices(filter: {supplierId: $supplier}, first: $first) @skip(if: true) "
    "{ pageInfo { hasNextPage } } }"
)
PORTAL = "/products/supplier-portal/v1/graphql"  # a supplier's endpoint (/graphql: operators)


def answered(body: dict[str, Any], request_only: bool) -> bool:
    """The page came back whole (or, for --request-only, the request was answered)."""
    if "errors" in body:
        return False
    if request_only:
        return bool(body["data"] == {"__typename": "Query"})
    return len(body["data"]["invoices"]["edges"]) == 50


class Collections:
    """Counts and times the collector's runs per generation (gc.callbacks)."""

    def __init__(self) -> None:
        self.runs = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.runs[info["generation"]] += 1
            self.seconds[info["generation"]] += time.perf_counter() - self._started


def transaction_commands(app: Any) -> list[str]:
    """BEGIN/COMMIT/ROLLBACK that asyncpg sends from now on (its public query loggers see
    simple-protocol commands; prepared statements are counted by `sqlStatements`)."""
    sent: list[str] = []
    engine = app.state.runtime.engine
    if engine.dialect.name != "postgresql":
        return sent

    def log_queries(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(
            lambda logged: sent.append(logged.query)
        )

    event.listen(engine.sync_engine, "connect", log_queries)
    return sent


def callgrind_instrumentation(state: str) -> None:
    """Turns callgrind's instrumentation of this process on or off (valgrind's own control
    command): start-up and warm-up are left out of the count."""
    subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True)
    parser.add_argument("--supplier", default="SUP-000001")
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument(
        "--request-only",
        action="store_true",
        help="ask for __typename alone: the cost of the request around the page",
    )
    parser.add_argument("--gc-threshold", default=None)
    parser.add_argument("--profile", default=None, help="write a cProfile of the pages here")
    parser.add_argument(
        "--callgrind", action="store_true", help="instrument only the pages (under callgrind)"
    )
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the bench client's, per request
    if "APGRAPH_GATEWAY_CONFIG" not in os.environ:
        os.environ["APGRAPH_GATEWAY_CONFIG"] = str(
            unthrottled_gateway_config(Path(tempfile.mkdtemp(prefix="apgraph-bench-")))
        )
    app = create_app_from_environment()
    async with app.router.lifespan_context(app):
        if args.gc_threshold:
            gc.set_threshold(*map(int, args.gc_threshold.split(",")))
        print(
            f"after start-up: {gc.get_freeze_count()} objects frozen, "
            f"{sum(len(gc.get_objects(g)) for g in range(3))} tracked, "
            f"thresholds {gc.get_threshold()}"
        )
        payload = {
            "query": REQUEST_ONLY if args.request_only else PORTAL_PAGE,
            "variables": {"supplier": args.supplier, "first": 50},
        }
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://bench",
            headers={"Authorization": f"Bearer {args.token}"},
        ) as client:
            for _ in range(5):  # warm up
                body = (await client.post(PORTAL, json=payload)).json()
            if not answered(body, args.request_only):
                raise RuntimeError(f"the page failed: {str(body)[:300]}")
            await app.state.runtime.engine.dispose()  # new connections carry the logger
            sent = transaction_commands(app)
            statements = 0
            collections = Collections()
            gc.callbacks.append(collections)
            profile = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall
            started = time.process_time()
            if profile is not None:
                profile.enable()
            if args.callgrind:
                callgrind_instrumentation("on")
            batches: list[float] = []  # CPU per page of each run of 20 pages
            batch_started = started
            for page in range(1, args.pages + 1):
                response = await client.post(PORTAL, json=payload)
                body = response.json()
                if not answered(body, args.request_only):
                    raise RuntimeError(f"a page failed: {str(body)[:300]}")
                statements += body.get("extensions", {}).get("sqlStatements", 0)
                if page % BATCH == 0:
                    now = time.process_time()
                    batches.append((now - batch_started) / BATCH)
                    batch_started = now
            if args.callgrind:
                callgrind_instrumentation("off")
            if profile is not None:
                profile.disable()
            cpu = time.process_time() - started
            if profile is not None:
                profile.dump_stats(args.profile)
            gc.callbacks.remove(collections)
    pages = args.pages
    print(
        f"{pages} pages: CPU {cpu / pages * 1000:.1f} ms per page (ASGI client included); "
        f"collector runs per generation {collections.runs}, "
        f"{sum(collections.seconds) / pages * 1000:.1f} ms per page (wall)"
    )
    if batches:  # on a shared machine the least disturbed runs are the most telling
        ordered = sorted(batches)
        print(
            f"CPU per page in runs of {BATCH}: best {ordered[0] * 1000:.1f} ms, "
            f"median {ordered[len(ordered) // 2] * 1000:.1f} ms ({len(ordered)} runs)"
        )
    commands = [query.rstrip(";").split()[0].upper() for query in sent]
    print(
        f"round trips per page: {statements / pages:.1f} statements (sqlStatements) + "
        f"{len(commands) / pages:.1f} transaction commands "
        f"({ {name: commands.count(name) for name in sorted(set(commands))} } in {pages} pages)"
    )


if __name__ == "__main__":
    # the event loop `apgraph serve` runs on: uvicorn takes uvloop when it is installed
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main())
