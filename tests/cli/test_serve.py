"""`apgraph serve` as a real process: embedded first start, and refusals at start."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
APGRAPH = [sys.executable, "-m", "apgraph.cli"]


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    return {**env, "APGRAPH_DEMO_SCALE": "0.05", **extra}


def wait_until_healthy(base: str, process: subprocess.Popen, deadline_s: float = 180) -> None:
    # a guard against a server that never comes up, not a measure of how fast it starts: a
    # first start migrates and seeds, which took over 60 s with the suite's workers busy
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"apgraph serve exited with {process.returncode}: {process.stderr.read()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail("apgraph serve did not become healthy in time")


@contextmanager
def serving(tmp_path: Path, *arguments: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`apgraph serve` on a free port with its data in tmp_path/data, once healthy: the
    process and its port; stopped on leaving unless it already ended."""
    port = free_port()
    process = subprocess.Popen(
        [*APGRAPH, "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"), *arguments],
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=120)


@pytest.fixture
def server(tmp_path):
    with serving(tmp_path) as (_, port):
        yield f"http://127.0.0.1:{port}", tmp_path


INVOICES = {"query": "{ invoices(first: 3) { totalCount edges { node { id status } } } }"}
FINANCE = "/products/finance-ops/v1/graphql"
PARTNER = "/products/partner-procurement/v1/graphql"
VIEWER = "query Viewer {\n  viewer {\n    subject\n    scopes\n    facilityIds\n  }\n}\n"


def apgraph(*args: str, data_dir) -> str:
    result = subprocess.run(
        [*APGRAPH, *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_first_start_migrates_seeds_and_answers_a_demo_users_queries(server):
    base, tmp_path = server
    assert (tmp_path / "data" / "apgraph.db").exists()
    assert httpx.get(f"{base}/readyz").json() == {"status": "ready", "database": "ok"}

    # without a token: refused, the RFC 6750 way
    refused = httpx.post(f"{base}/graphql", json=INVOICES)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="apgraph"'

    # with the token `apgraph token` prints for the demo AP clerk: refused on the operators'
    # /graphql, served on the clerk's product
    token = apgraph("token", "--role", "ap_clerk", data_dir=tmp_path / "data").strip()
    headers = {"Authorization": f"Bearer {token}"}
    internal = httpx.post(f"{base}/graphql", json=INVOICES, headers=headers)
    response = httpx.post(f"{base}{FINANCE}", json=INVOICES, headers=headers)

    assert internal.status_code == 403
    assert internal.json()["errors"][0]["extensions"]["endpoints"] == [FINANCE]
    assert response.status_code == 200
    invoices = response.json()["data"]["invoices"]
    assert invoices["totalCount"] > 0
    assert len(invoices["edges"]) == 3


def test_a_partner_registered_on_the_command_line_gets_a_token_and_loses_it_on_revoke(server):
    base, tmp_path = server
    data = tmp_path / "data"
    # given a client registered for FAC-0002 only
    created = apgraph(
        "clients",
        "create",
        "--name",
        "Acme procurement",
        "--scope",
        "invoices:read",
        "--scope",
        "master-data:read",
        "--facility",
        "FAC-0002",
        data_dir=data,
    )
    client_id = created.split("client_id:")[1].split()[0]
    secret = created.split("client_secret:")[1].split()[0]

    # when it asks the token endpoint (client credentials, HTTP Basic)
    issued = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    # then its product, with an operation on the partner allow-list, knows it at FAC-0002 only
    query = {"query": VIEWER}
    viewer = httpx.post(f"{base}{PARTNER}", json=query, headers=headers).json()["data"]
    assert viewer["viewer"]["facilityIds"] == ["FAC-0002"]

    # and once revoked, the same token is refused at once
    apgraph("clients", "revoke", client_id, data_dir=data)
    after = httpx.post(f"{base}{PARTNER}", json=query, headers=headers)
    assert after.status_code == 401
    assert "revoked" in after.headers["www-authenticate"]


def run_and_fail(*args: str, **env: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*APGRAPH, *args],
        cwd=ROOT,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    return result


def test_an_unknown_facility_in_gateway_yaml_stops_the_server_with_one_line(tmp_path):
    config = (ROOT / "tests" / "gateway.yaml").read_text().replace("FAC-0006", "FAC-0042")
    (tmp_path / "gateway.yaml").write_text(config)
    result = run_and_fail(
        "serve",
        "--data-dir",
        str(tmp_path / "data"),
        "--gateway-config",
        str(tmp_path / "gateway.yaml"),
    )
    assert result.stderr.strip().splitlines()[-1] == (
        "apgraph: gateway.yaml: facilities: FAC-0042 not in the database "
        "(import or seed them, or remove them from gateway.yaml)"
    )


def test_an_unreachable_database_stops_the_server_with_one_line(tmp_path):
    result = run_and_fail(
        "serve", "--database-url", f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test"
    )
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("apgraph: database postgresql+asyncpg://postgres@127.0.0.1:")
    assert "unreachable" in line
