"""`apgraph simulators serve --empty` and `apgraph simulators load BUNDLE`, as processes run
from a directory that is not the clone: simulators that start knowing nothing learn an
imported hospital's master data while they run."""

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from apgraph.demo import generator
from apgraph.services.bundles import write_json
from tests.bundles import bundle_of
from tests.cli.test_serve import APGRAPH, ROOT, environment, free_port

NETWORK = generator.generate(generator.DemoSize().scaled(0.02))


def env() -> dict[str, str]:
    return environment(PYTHONPATH=str(ROOT))  # this checkout's apgraph, from anywhere


@pytest.fixture
def simulators(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [*APGRAPH, "simulators", "serve", "--empty", "--port", str(port)],
        cwd=tmp_path,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for line in process.stdout:  # the banner ends with the master-data line
            if line.startswith("master data:"):
                assert "(books start empty)" in line
                break
        else:
            pytest.fail(f"simulators serve stopped: {process.stderr.read()}")
        while True:  # up once its health answers; it exits (and fails the test) otherwise
            assert process.poll() is None, process.stderr.read()
            try:
                httpx.get(f"{base}/materials/api/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


def receipts(base: str, order: str) -> list[dict]:
    answer = httpx.get(f"{base}/materials/api/purchase-orders/{order}/receipts")
    assert answer.status_code == 200
    return answer.json()["receipts"]


def test_empty_simulators_learn_a_bundle_loaded_while_they_run(simulators, tmp_path):
    received = NETWORK.goods_receipts[0]
    assert receipts(simulators, received.purchase_order_id) == []  # empty: knows nothing

    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(write_json(bundle_of(NETWORK)))
    loaded = subprocess.run(
        [*APGRAPH, "simulators", "load", str(bundle), "--url", simulators],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert loaded.returncode == 0, loaded.stderr
    assert f"{len(NETWORK.goods_receipts)} goods_receipts" in loaded.stdout
    learned = receipts(simulators, received.purchase_order_id)
    assert received.id.removeprefix("GR-") in [r["receiptNumber"] for r in learned]


def test_an_invalid_bundle_teaches_nothing_and_says_why(simulators, tmp_path):
    bundle = tmp_path / "bundle.json"
    bundle.write_text('{"format": "apgraph.master-data", "version": 1, "suppliers": [{}]}')

    loaded = subprocess.run(
        [*APGRAPH, "simulators", "load", str(bundle), "--url", simulators],
        cwd=tmp_path,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert loaded.returncode == 1
    assert "nothing was loaded" in loaded.stderr.splitlines()[-1]
    # and the control route itself refuses it the same way
    direct = httpx.post(f"{simulators}/_control/master-data", content=bundle.read_bytes())
    assert direct.status_code == 400
    assert direct.json()["code"] == "INVALID_BUNDLE"


def test_simulators_on_a_busy_port_say_so_in_one_line_and_exit_1(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*APGRAPH, "simulators", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env(),
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"apgraph: port {port} on 127.0.0.1 is already in use (another apgraph serve?); "
        "stop it or pick another with --port"
    ]
