"""Benchmark: what one submitInvoice → POSTED costs, in one process on PostgreSQL.

Run from the repository root (`-m`, so that its apgraph is the one imported), on a database
freshly seeded with `apgraph seed --replace` (bench/run_submit_invoices.sh's plan of clean
invoices needs unbilled, received PO lines):

    APGRAPH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/apgraph_perfbench_submit \\
    APGRAPH_ENVIRONMENT=production python -m bench.submit_profile --invoices 60

Builds the app as `apgraph serve` does, runs its start-up, and submits the invoices one after
the other through the ASGI interface (no HTTP client or other tenants in the numbers). Prints
the CPU per submission, the round trips to PostgreSQL per submission (statements, and the
BEGIN/COMMIT/ROLLBACK asyncpg sends apart from them), transactions, and the statements of
one submission in order. `--profile` adds cProfile's top functions by cumulative time.
`--callgrind` counts instructions of the measured submissions only, under callgrind with
instrumentation off at start (bench/submit_instructions.sh runs it, background loops off, and
prints them per submission): the number that repeats on a machine whose speed moves.
"""

import argparse
import asyncio
import cProfile
import io
import pstats
import re
import time
from collections import Counter
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event

from apgraph.domain.principal import Role
from apgraph.gateway.app import create_app_from_environment
from apgraph.gateway.demo_users import demo_token
from apgraph.settings import Settings
from apgraph.store.database import counting_statements
from bench.portal_cpu import callgrind_instrumentation
from bench.submit_invoices import CANDIDATES, ON_FILE, SUBMIT, plan, settle

_IN_SUBMISSION: ContextVar[bool] = ContextVar("in_submission", default=False)
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def label(statement: str) -> str:
    """`SELECT invoices`, `INSERT outbox`, `UPDATE counters`: verb and first table."""
    words = statement.split()
    verb = words[0].upper() if words else "?"
    table = _TABLE.search(statement)
    return f"{verb} {table.group(1) if table else ''}".strip()


async def _planned(dsn: str, *, count: int) -> list[Any]:
    today = datetime.now(UTC).date()
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(CANDIDATES, today)
        on_file = await connection.fetch(ON_FILE, today)
    finally:
        await connection.close()
    return plan(rows, count=count, today=today, on_file=on_file)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="cProfile's top functions")
    parser.add_argument("--profile-out", help="also write cProfile's stats to this file")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="instrument only the measured submissions (under callgrind; background loops off)",
    )
    args = parser.parse_args()
    settings = Settings()
    dsn = settings.resolved_database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    app = create_app_from_environment()
    async with app.router.lifespan_context(app):
        # Planned once the app has started: its start-up links the suppliers to their ERP
        # vendors, and a PO line is clean only when its supplier is linked (CANDIDATES). On a
        # database fresh from `apgraph seed --replace` no supplier is linked before that.
        planned = await _planned(dsn, count=args.invoices + args.warmup)
        if len(planned) < args.invoices + args.warmup:
            parser.error(f"only {len(planned)} clean PO lines available; reseed the database")
        runtime = app.state.runtime
        issuer = runtime.issuer
        if issuer is None:
            parser.error("the profile signs supplier tokens with the embedded issuer")
        engine = runtime.engine
        statements: list[str] = []
        commands: list[str] = []
        background: Counter[str] = Counter()  # the server's own loops, meanwhile

        def log_statement(*arguments: Any) -> None:
            if not _IN_SUBMISSION.get():  # a submission's own are counted in `submit`
                background[label(arguments[2])] += 1

        def log_command(logged: Any) -> None:
            if not logged.query.upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
                return  # a statement (executemany, or sent on the driver): counted in `submit`
            if _IN_SUBMISSION.get():
                commands.append(logged.query)
            else:
                background[logged.query.split()[0].upper()] += 1

        def log_queries(dbapi_connection: Any, _: Any) -> None:
            dbapi_connection.driver_connection.add_query_logger(log_command)

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=60
        ) as client:
            # Signed before measuring, one per supplier, as a portal's user holds one for its
            # session: signing (RS256) was 15 % of the instructions counted per submission.
            tokens = {
                supplier: demo_token(
                    issuer,
                    role=Role.SUPPLIER,
                    supplier_id=supplier,
                    now=datetime.now(UTC),
                    lifetime=timedelta(hours=2),  # a run under callgrind takes minutes
                )
                for supplier in {item.supplier_id for item in planned}
            }

            async def submit(item: Any) -> str:
                _IN_SUBMISSION.set(True)  # this task's context: the background loops keep theirs
                token = tokens[item.supplier_id]
                # through SQLAlchemy or on the driver (store/reading.py), as sqlStatements counts
                with counting_statements(keeping_sql=True) as counted:
                    response = await client.post(
                        "/products/supplier-portal/v1/graphql",  # a supplier's endpoint
                        json={"query": SUBMIT, "variables": item.variables},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                if measuring:
                    statements.extend(counted.sent or ())
                body = response.json()
                result = (body.get("data") or {}).get("submitInvoice") or {}
                if result.get("userErrors") or not result.get("invoice"):
                    return f"failed {str(body)[:200]}"
                return str(result["invoice"]["status"])

            measuring = False
            for item in planned[: args.warmup]:
                await submit(item)
            if not args.callgrind:  # there, the loops are off: nothing to settle
                waited = await settle(dsn)
                print(f"the server's background loops settled after {waited:.0f} s")
            await engine.dispose()  # new connections carry the query logger
            event.listen(engine.sync_engine, "connect", log_queries)
            event.listen(engine.sync_engine, "before_cursor_execute", log_statement)
            outcomes: Counter[str] = Counter()
            first: list[str] = []
            first_commands = 0
            profiler = cProfile.Profile() if args.profile else None
            measuring = True
            if args.callgrind:
                callgrind_instrumentation("on")
            cpu_started, wall_started = time.process_time(), time.perf_counter()
            for number, item in enumerate(planned[args.warmup :]):
                if profiler is not None:
                    profiler.enable()
                outcomes[await submit(item)] += 1
                if profiler is not None:
                    profiler.disable()
                if number == 0:
                    first = list(statements)
                    first_commands = len(commands)
            cpu = time.process_time() - cpu_started
            wall = time.perf_counter() - wall_started
            if args.callgrind:
                callgrind_instrumentation("off")
    count = args.invoices
    sent = Counter(query.rstrip(";").split()[0].upper() for query in commands)
    transactions = sent.get("BEGIN", 0) / count
    print(f"{count} submissions one after the other: {dict(outcomes)}")
    print(
        f"CPU {cpu / count * 1000:.1f} ms per submission (server and ASGI client; tokens "
        f"signed before), wall {wall / count * 1000:.1f} ms"
    )
    print(
        f"round trips per submission: {len(statements) / count:.1f} statements + "
        f"{len(commands) / count:.1f} transaction commands "
        f"({ {name: round(n / count, 1) for name, n in sorted(sent.items())} }); "
        f"{transactions:.1f} transactions"
    )
    print(f"the first submission's {len(first)} statements (+ {first_commands} BEGIN/COMMIT/…):")
    for statement in first:
        print(f"  {label(statement)}")
    print(
        f"meanwhile the server's background loops sent {sum(background.values())} statements "
        f"and commands: {dict(background.most_common(12))}"
    )
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(45)
        if args.profile_out:
            profiler.dump_stats(args.profile_out)
        print(out.getvalue())


if __name__ == "__main__":
    asyncio.run(main())
