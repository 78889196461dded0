"""Benchmark: the token endpoint under abuse, on the embedded default (SQLite).

Starts `apgraph serve` as a real process in a fresh data directory, registers one partner
client with `apgraph clients create`, then, over loopback HTTP with distinct source addresses
(127.0.0.x):

1. 16 concurrent wrong secrets for the partner: how many HTTP 500s;
2. an attacker (127.0.0.2) sends 10 wrong secrets for the partner, then the partner (127.0.0.1)
   asks with its correct secret: its status (200 = not locked out);
3. a spray of random client ids from 127.0.0.3 for `--seconds`, `--concurrency` at once: how many
   attempts were checked (401) or throttled (429), audit rows added, the server's CPU seconds and
   RSS, and the p50/p99 of another user's query meanwhile.

    .venv/bin/python bench/token_spray.py --seconds 10 --concurrency 8
"""

import argparse
import asyncio
import os
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
APGRAPH = [sys.executable, "-m", "apgraph.cli"]
QUERY = {"query": "{ viewer { subject } }"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    return {**env, "APGRAPH_DEMO_SCALE": "0.05"}


def cli(*args: str, data_dir: Path) -> str:
    done = subprocess.run(
        [*APGRAPH, *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def from_address(address: str, base: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base, transport=transport, timeout=60)


async def ask(client: httpx.AsyncClient, client_id: str, secret: str) -> int:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=httpx.BasicAuth(client_id, secret),
    )
    return response.status_code


def audit_rows(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "apgraph.db") as db:
        return int(db.execute("SELECT count(*) FROM audit_log").fetchone()[0])


def cpu_and_rss(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return cpu, rss_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def spray(base: str, seconds: float, concurrency: int) -> Counter[int]:
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        async with from_address("127.0.0.3", base) as client:
            while time.monotonic() < deadline:
                statuses[await ask(client, f"cli_{secrets.token_hex(8)}", "guess")] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


async def other_user(base: str, token: str, stop: asyncio.Event) -> list[float]:
    latencies = []
    async with from_address("127.0.0.4", base) as client:
        while not stop.is_set():
            started = time.perf_counter()
            response = await client.post(
                "/graphql", json=QUERY, headers={"Authorization": f"Bearer {token}"}
            )
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
            await asyncio.sleep(0.02)
    return latencies


def main(seconds: float, concurrency: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="apgraph-spray-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*APGRAPH, "serve", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / "server.log").open("w"),
    )
    print(f"server log: {data_dir / 'server.log'}")
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        created = cli(
            *("clients", "create", "--name", "bench partner", "--scope", "invoices:read"),
            *("--facility", "FAC-0001"),
            data_dir=data_dir,
        )
        lines = dict(line.split(":", 1) for line in created.splitlines() if ":" in line)
        client_id, secret = lines["client_id"].strip(), lines["client_secret"].strip()
        token = cli("token", "--role", "finance_admin", data_dir=data_dir).strip()
        asyncio.run(
            measure(base, server.pid, data_dir, client_id, secret, token, seconds, concurrency)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)


async def measure(
    base: str,
    pid: int,
    data_dir: Path,
    client_id: str,
    secret: str,
    token: str,
    seconds: float,
    concurrency: int,
) -> None:
    async with from_address("127.0.0.1", base) as partner:
        burst = await asyncio.gather(*(ask(partner, client_id, "wrong") for _ in range(16)))
    print(f"16 concurrent wrong secrets: {dict(sorted(Counter(burst).items()))}")

    async with from_address("127.0.0.2", base) as attacker:
        tries = [await ask(attacker, client_id, f"guess-{n}") for n in range(10)]
    async with from_address("127.0.0.5", base) as partner:
        answer = await ask(partner, client_id, secret)
    print(f"attacker's 10 wrong secrets: {dict(sorted(Counter(tries).items()))}")
    print(f"then the partner's correct secret from another address: {answer}")

    rows_before = audit_rows(data_dir)
    cpu_before, _ = cpu_and_rss(pid)
    stop = asyncio.Event()
    watching = asyncio.create_task(other_user(base, token, stop))
    started = time.monotonic()
    statuses = await spray(base, seconds, concurrency)
    elapsed = time.monotonic() - started
    stop.set()
    latencies = sorted(await watching)
    cpu_after, rss = cpu_and_rss(pid)
    await asyncio.sleep(3)  # let aggregated audit entries reach the table
    rows = audit_rows(data_dir) - rows_before
    total = sum(statuses.values())
    print(
        f"spray of random client ids, {elapsed:.1f} s at concurrency {concurrency}: "
        f"{total} attempts ({total / elapsed:.0f}/s), statuses {dict(sorted(statuses.items()))}"
    )
    print(f"  audit rows added: {rows}")
    print(f"  server CPU: {cpu_after - cpu_before:.1f} s, RSS {rss:.0f} MiB")
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(
        f"  another user's query meanwhile: n={len(latencies)} "
        f"p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    arguments = parser.parse_args()
    main(arguments.seconds, arguments.concurrency)
