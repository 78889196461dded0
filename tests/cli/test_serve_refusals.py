"""`apgraph serve` refuses, in one line and before any banner, what it cannot do safely."""

import socket
import subprocess

from tests.cli.test_serve import APGRAPH, ROOT, environment, free_port


def serve(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [*APGRAPH, "serve", *args, "--data-dir", str(cwd / "data")],
            cwd=cwd,
            env=environment(PYTHONPATH=str(ROOT)),  # this checkout's apgraph, from anywhere
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired as expired:  # it served instead of refusing
        raise AssertionError(f"serve did not refuse: {expired.stdout!r}") from None


def test_dev_mode_on_an_address_other_machines_reach_refuses_and_says_how_to_run_production(
    tmp_path,
):
    result = serve("--host", "0.0.0.0", "--port", str(free_port()), cwd=tmp_path)

    assert result.returncode == 1
    assert result.stdout == ""  # no banner, nothing seeded
    [line] = result.stderr.splitlines()
    assert "dev mode serves this machine only" in line
    assert "APGRAPH_ENVIRONMENT=production apgraph serve --host 0.0.0.0" in line
    assert not (tmp_path / "data" / "apgraph.db").exists()


def test_a_busy_port_is_one_clear_line_and_exit_1_with_no_banner(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = serve("--port", str(port), cwd=tmp_path)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"apgraph: port {port} on 127.0.0.1 is already in use (another apgraph serve?); "
        "stop it or pick another with --port"
    ]
