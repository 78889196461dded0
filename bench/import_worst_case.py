"""Benchmark: the worst importMasterData upload, and what it costs everyone else.

A ~180 KB zip whose suppliers.csv inflates to 60 MB of one supplier row repeated (every row
after the first a duplicate). A real `apgraph serve` process (SQLite, small demo network)
takes the upload while other users keep asking a small query; printed: the import's wall time,
the response size and problem count, the server's peak memory (its process and any
children), and the other users' latency p50 / p99 / max during the import.

    .venv/bin/python bench/import_worst_case.py
    .venv/bin/python bench/import_worst_case.py --inflated-mb 20
"""

import argparse
import asyncio
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx

HEADER = (
    "id,legal_name,tax_id,status,payment_terms,tax_treatment,tax_rate,"
    "remit_to_bank_name,remit_to_routing_number,remit_to_account_number\n"
)
ROW = (
    "SUP-900001,Worst Case Supply Co,12-3456789,ACTIVE,NET30,STANDARD,0.0825,"
    "Harborline Bank,030497463,6752917034\n"
)
OTHER_USER = "{ invoices(first: 5) { totalCount edges { node { id status } } } }"


def worst_zip(inflated_bytes: int) -> bytes:
    rows = (inflated_bytes - len(HEADER)) // len(ROW)
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("suppliers.csv", "w") as member,
    ):
        member.write(HEADER.encode())
        chunk = (ROW * 10_000).encode()
        for _ in range(rows // 10_000):
            member.write(chunk)
        member.write((ROW * (rows % 10_000)).encode())
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its descendants, from /proc."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
            )
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending += [int(child) for child in children]
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inflated-mb", type=float, default=60.0)
    parser.add_argument(
        "--fields",
        default="valid problemCount problemCounts { code count } problems { code }",
        help="the report fields asked for (before the cap: 'valid problems { code }')",
    )
    args = parser.parse_args()
    archive = worst_zip(int(args.inflated_mb * 1024 * 1024))
    print(f"zip: {len(archive) / 1024:.0f} KB, inflating to {args.inflated_mb:.0f} MB")

    data_dir = Path(tempfile.mkdtemp(prefix="apgraph-bench-worst-"))
    port = free_port()
    env = {
        **os.environ,
        "APGRAPH_DATA_DIR": str(data_dir),
        "APGRAPH_DEMO_SCALE": "0.05",
        "APGRAPH_PORT": str(port),
        "APGRAPH_RELAY_INTERVAL_SECONDS": "0",
        "APGRAPH_REMATCH_INTERVAL_SECONDS": "0",
        "APGRAPH_ESCALATION_INTERVAL_SECONDS": "0",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "apgraph.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        token = subprocess.run(
            [sys.executable, "-m", "apgraph.cli", "token", "--role", "finance_admin"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        query = (
            "mutation($b: Upload!) { importMasterData(bundle: $b, dryRun: true) "
            f"{{ {args.fields} }} }}"
        )
        asyncio.run(run(base, {"Authorization": f"Bearer {token}"}, archive, query, server.pid))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


async def run(base: str, headers: dict[str, str], archive: bytes, query: str, pid: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=600) as client:
        await measure(client, headers, archive, query, pid)


async def measure(
    client: httpx.AsyncClient, headers: dict[str, str], archive: bytes, query: str, pid: int
) -> None:
    async def other_user() -> float:
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": OTHER_USER}, headers=headers)
        assert response.status_code == 200, response.text
        assert "errors" not in response.json(), response.text
        return (time.perf_counter() - started) * 1000

    for _ in range(20):  # warm-up: connections, caches
        await other_user()
    baseline = []
    for _ in range(200):
        baseline.append(await other_user())
        await asyncio.sleep(0.02)
    memory_before = tree_rss_kb(pid)
    done = asyncio.Event()
    latencies: list[float] = []
    peak = memory_before

    async def users() -> None:
        while not done.is_set():
            latencies.append(await other_user())
            await asyncio.sleep(0.02)

    async def memory() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kb(pid))
            await asyncio.sleep(0.05)

    async def upload() -> httpx.Response:
        try:
            return await client.post(
                "/graphql",
                headers=headers,
                data={
                    "operations": json.dumps({"query": query, "variables": {"b": None}}),
                    "map": json.dumps({"0": ["variables.b"]}),
                },
                files={"0": ("bundle.zip", archive, "application/zip")},
            )
        finally:
            done.set()

    started = time.perf_counter()
    response, *_ = await asyncio.gather(upload(), users(), memory())
    elapsed = time.perf_counter() - started
    body = response.json()
    report = (body.get("data") or {}).get("importMasterData") or {}
    print(f"import: HTTP {response.status_code}, {elapsed:.1f} s wall")
    listed = len(report.get("problems", []))
    print(f"response: {len(response.content) / 1e6:.2f} MB, {listed} problems listed")
    if "problemCount" in report:
        print(f"  problemCount {report['problemCount']}: {report.get('problemCounts')}")
    if body.get("errors"):
        print(f"  errors: {body['errors'][:1]}")
    print(f"server memory: {memory_before / 1024:.0f} MB before, peak {peak / 1024:.0f} MB")

    def summary(values: list[float]) -> str:
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"n={len(values)} p50={statistics.median(values):.0f} ms "
            f"p99={p99:.0f} ms max={max(values):.0f} ms"
        )

    print(f"other users, idle server: {summary(baseline)}")
    print(f"other users, during the import: {summary(latencies)}")


if __name__ == "__main__":
    main()
