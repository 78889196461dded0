"""A newcomer's first hour after `pip install`, as real processes run from directories that
are not the clone: serve starts anywhere on the shipped gateway.yaml, `init` writes an
editable one, the CLI and the server share one data dir, and the banner's command works as
printed. Each run gets its own $XDG_DATA_HOME, so the user-level data dir is a tmp dir."""

import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from apgraph.settings import shipped_gateway_config
from tests.cli.test_serve import APGRAPH, ROOT, environment, free_port, wait_until_healthy

VIEWER = {"query": "{ viewer { subject roles } invoices { totalCount } }"}


def user_environment(home: Path) -> dict[str, str]:
    # PYTHONPATH: this checkout's apgraph, from whichever directory a command runs in
    return environment(XDG_DATA_HOME=str(home / "xdg"), PYTHONPATH=str(ROOT))


def run(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*APGRAPH, *args],
        cwd=cwd,
        env=user_environment(home),
        capture_output=True,
        text=True,
        timeout=120,
    )


class Served:
    def __init__(self, base: str, banner: list[str], process: subprocess.Popen) -> None:
        self.base = base
        self.banner = banner
        self.process = process

    def line(self, starting: str) -> str:
        return next(line for line in self.banner if line.startswith(starting))


def start(*args: str, cwd: Path, home: Path) -> Iterator[Served]:
    cwd.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [*APGRAPH, "serve", "--port", str(port), *args],
        cwd=cwd,
        env=user_environment(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        banner = []
        for line in process.stdout:  # the banner comes before uvicorn takes over
            banner.append(line.rstrip("\n"))
            if line.startswith("apgraph: a token for another role:"):
                break
        wait_until_healthy(base, process)
        yield Served(base, banner, process)
    finally:
        process.terminate()
        process.wait(timeout=60)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from start(cwd=tmp_path / "somewhere", home=tmp_path)


def test_serve_starts_in_any_directory_on_the_shipped_gateway_yaml(served, tmp_path):
    assert not (tmp_path / "somewhere" / "gateway.yaml").exists()
    configuration = served.line("apgraph: configuration ")
    assert f"configuration {shipped_gateway_config().resolve()};" in configuration
    assert httpx.get(f"{served.base}/readyz").json()["status"] == "ready"


def test_the_banners_token_command_works_as_printed_from_another_directory(served, tmp_path):
    printed = served.line("apgraph: a token for another role: ")
    command = printed.removeprefix("apgraph: a token for another role: ").split(" (or ")[0]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    result = subprocess.run(
        shlex.split(command),
        cwd=elsewhere,
        env=user_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    answer = httpx.post(
        f"{served.base}/products/supplier-portal/v1/graphql",  # /graphql is operators only
        json=VIEWER,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["viewer"]["roles"] == ["supplier"]


def test_cli_and_server_share_one_data_dir_and_the_cli_says_which(served, tmp_path):
    data_dir = (tmp_path / "xdg" / "apgraph").resolve()
    assert served.line("apgraph: configuration ").endswith(f"data dir {data_dir}")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # when `apgraph token` runs in another directory with no options
    result = run("token", "--role", "ap_clerk", cwd=elsewhere, home=tmp_path)

    # then it says which data dir it used, creates none of its own, and its token works
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [f"apgraph: data dir {data_dir}"]
    assert not (elsewhere / "apgraph-data").exists()
    assert list(elsewhere.iterdir()) == []
    answer = httpx.post(
        f"{served.base}/products/finance-ops/v1/graphql",
        json=VIEWER,
        headers={"Authorization": f"Bearer {result.stdout.strip()}"},
    )
    assert answer.json()["data"]["viewer"] == {"subject": "clerk.demo", "roles": ["ap_clerk"]}


def test_init_writes_an_editable_gateway_yaml_that_serve_in_that_directory_uses(tmp_path):
    site = tmp_path / "site"

    result = run("init", str(site), cwd=tmp_path, home=tmp_path)

    written = site / "gateway.yaml"
    assert result.returncode == 0, result.stderr
    assert f"apgraph: wrote {written.resolve()}" in result.stdout
    assert written.read_text() == shipped_gateway_config().read_text()
    again = run("init", str(site), cwd=tmp_path, home=tmp_path)
    assert again.returncode == 1
    assert (
        again.stderr.strip() == f"apgraph: {written.resolve()} already exists; --force replaces it"
    )

    # an edit is what serve in that directory runs with
    config = yaml.safe_load(written.read_text())
    config["limits"]["max_page_size"] = 7
    written.write_text(yaml.safe_dump(config))
    for served in start(cwd=site, home=tmp_path):
        assert f"configuration {written.resolve()};" in served.line("apgraph: configuration ")
        token = run("token", "--role", "ap_clerk", cwd=site, home=tmp_path).stdout.strip()
        answer = httpx.post(
            f"{served.base}/products/finance-ops/v1/graphql",
            json={"query": "{ invoices(first: 8) { totalCount } }"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_serve_without_demo_data_on_the_shipped_gateway_yaml_starts_on_an_empty_database(
    tmp_path,
):
    for served in start("--no-demo-data", cwd=tmp_path / "empty", home=tmp_path):
        assert not any("seeded" in line for line in served.banner)
        token = run("token", "--role", "ap_clerk", cwd=tmp_path, home=tmp_path).stdout.strip()
        answer = httpx.post(
            f"{served.base}/products/finance-ops/v1/graphql",
            json={"query": "{ invoices { totalCount } facilities { totalCount } }"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert answer["data"] == {"invoices": {"totalCount": 0}, "facilities": {"totalCount": 0}}
        assert "errors" not in answer
