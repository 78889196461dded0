"""`apgraph serve --workers N` as real processes: each worker listens on a socket of its own,
new connections are spread across them, a worker that dies is replaced, SIGTERM stops all.

Which worker holds a connection is read from Linux's /proc (each worker's open sockets
against the kernel's table of TCP sockets), as the workers expose nothing of the kind."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.cli.test_serve import APGRAPH, FINANCE, INVOICES, ROOT, environment, serving

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads Linux's /proc")

ESTABLISHED, LISTENING = "01", "0A"  # TCP states as /proc/net/tcp writes them
BURST = 64  # connections opened at once
FAIR_SHARE = 12  # of a burst, for each of two workers: spread by hash, fewer than 12 of 64
# happens about once in 2.5 million bursts; with one socket shared by the workers, one of them
# took most of a burst in two of three runs (64 of 64, 54 of 64), and five bursts in a row
# all but never pass
DEADLINE_S = 120.0  # a guard against a server that never gets there, not a measure of speed


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # the field after the name: ppid
            found.append(int(entry))
    return found


def socket_inodes(port: int, state: str) -> set[str]:
    """The inodes of this machine's TCP sockets on local port `port` in `state`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.add(fields[9])
    return found


def holders(server: int, port: int, state: str) -> Counter[int]:
    """How many of the port's sockets in `state` each of the server's processes holds."""
    inodes = socket_inodes(port, state)
    held: Counter[int] = Counter()
    for child in children(server):
        try:
            for fd in os.listdir(f"/proc/{child}/fd"):
                link = os.readlink(f"/proc/{child}/fd/{fd}")
                if link.startswith("socket:[") and link[len("socket:[") : -1] in inodes:
                    held[child] += 1
        except OSError:  # the process ended meanwhile
            continue
    return held


def until(condition, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        answer = condition()
        if answer:
            return answer
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen in {DEADLINE_S:.0f} s")


def listening_workers(server: int, port: int) -> set[int]:
    return {pid for pid, count in holders(server, port, LISTENING).items() if count}


def a_burst_of_connections(server: int, port: int) -> Counter[int]:
    """BURST connections opened at once, each with a request whose headers never end (so
    the worker that accepted it holds it open): how many each worker accepted."""
    with ExitStack() as opened:
        for _ in range(BURST):
            connection = opened.enter_context(socket.create_connection(("127.0.0.1", port)))
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: apgraph\r\n")
        return until(
            lambda: (held := holders(server, port, ESTABLISHED)).total() >= BURST and held,
            f"{BURST} connections accepted",
        )


def test_two_workers_serve_the_api_and_share_new_connections(tmp_path):
    with serving(tmp_path, "--workers", "2") as (process, port):
        # given a server with two workers, each listening on its own socket of the port
        workers = until(
            lambda: len(found := listening_workers(process.pid, port)) == 2 and found,
            "two listening workers",
        )
        base = f"http://127.0.0.1:{port}"
        token = subprocess.run(
            [*APGRAPH, "token", "--role", "auditor", "--data-dir", str(tmp_path / "data")],
            cwd=ROOT,
            env=environment(),
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

        # when clients ask the API, and when bursts of connections arrive at once
        headers = {"Authorization": f"Bearer {token}"}
        answers = [
            httpx.post(f"{base}{FINANCE}", json=INVOICES, headers=headers).json() for _ in range(4)
        ]
        bursts = [a_burst_of_connections(process.pid, port) for _ in range(5)]

        # then every answer is whole, and each worker accepted its share of every burst
        assert all(a["data"]["invoices"]["totalCount"] > 0 for a in answers)
        for burst in bursts:
            assert set(burst) == workers, burst
            assert min(burst.values()) >= FAIR_SHARE, burst


def test_a_worker_that_dies_is_replaced_and_sigterm_stops_them_all(tmp_path):
    with serving(tmp_path, "--workers", "2") as (process, port):
        # given a server with two workers
        workers = until(
            lambda: len(found := listening_workers(process.pid, port)) == 2 and found,
            "two listening workers",
        )

        # when one of them is killed
        killed = min(workers)
        os.kill(killed, signal.SIGKILL)

        # then another takes its place, and the server answers
        replaced = until(
            lambda: (
                len(found := listening_workers(process.pid, port)) == 2
                and killed not in found
                and found
            ),
            "a replacement worker",
        )
        assert max(workers) in replaced
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30).status_code == 200

        # and when the server is asked to stop, every worker stops and it exits cleanly
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=DEADLINE_S) == 0
        assert not [pid for pid in replaced if Path(f"/proc/{pid}").exists()]
        assert f"worker {killed} ended" in process.stderr.read()
