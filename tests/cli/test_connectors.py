"""`apgraph connectors check`: a table of every system, and an exit code scripts can use."""

import os
from pathlib import Path

from typer.testing import CliRunner

from apgraph.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def run(*arguments: str, **environment: str):
    kept = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    return CliRunner().invoke(
        app, list(arguments), env={**kept, "APGRAPH_DEMO_SCALE": "0.05", **environment}
    )


def test_check_prints_reachability_and_breaker_of_every_system():
    result = run("connectors", "check", "--gateway-config", str(ROOT / "tests" / "gateway.yaml"))

    assert result.exit_code == 0, result.output
    header, *rows = result.output.strip().splitlines()
    assert header.split()[:4] == ["SYSTEM", "ENDPOINT", "REACHABLE", "BREAKER"]
    assert [row.split()[:4] for row in rows] == [
        [system, "in-process", "yes", "CLOSED"]
        for system in ("legacy_erp", "cloud_erp", "materials", "sourcing", "analytics")
    ]


def test_check_of_systems_nobody_serves_says_why_and_exits_1(tmp_path):
    text = (ROOT / "tests" / "gateway.yaml").read_text().replace("mode: simulated", "mode: remote")
    text = text.replace("127.0.0.1:8100", "127.0.0.1:9")  # the discard port: nothing listens
    (tmp_path / "gateway.yaml").write_text(text)

    result = run(
        "connectors",
        "check",
        "--gateway-config",
        str(tmp_path / "gateway.yaml"),
        APGRAPH_CLOUD_ERP_CLIENT_SECRET="s",
    )

    assert result.exit_code == 1
    rows = result.output.strip().splitlines()[1:]
    assert len(rows) == 5
    assert all(" no " in row and "cannot connect" in row for row in rows)


def test_remote_mode_without_the_cloud_secret_stops_with_one_line(tmp_path):
    text = (ROOT / "tests" / "gateway.yaml").read_text().replace("mode: simulated", "mode: remote")
    (tmp_path / "gateway.yaml").write_text(text)

    result = run("connectors", "check", "--gateway-config", str(tmp_path / "gateway.yaml"))

    assert result.exit_code == 1
    assert "APGRAPH_CLOUD_ERP_CLIENT_SECRET" in result.output
