"""graphql-http's server audits (the GraphQL-over-HTTP spec's conformance suite) pass every
MUST on each product endpoint, over real HTTP, with a token the product admits."""

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from apgraph.domain.principal import Role
from tests.conftest import ROOT
from tests.databases import IN_CI
from tests.gateway.partners import register, token_for

GRAPHQL_HTTP = "graphql-http@1.23.1"
NODE_PACKAGES = ROOT / ".cache" / "npm"  # git-ignored
RUNNER = Path(__file__).parent / "audits" / "run_server_audits.js"


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """graphql-http installed once into a git-ignored folder (npm's registry, no other)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        if IN_CI:
            pytest.fail("node and npm must be installed under CI=true")
        pytest.skip("node and npm are not installed")
    installed = NODE_PACKAGES / "node_modules"
    NODE_PACKAGES.mkdir(parents=True, exist_ok=True)
    # the suite's workers (pytest-xdist) may all get here at once: one installs, the others
    # wait on the lock and then find it installed
    with (NODE_PACKAGES / "install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (installed / "graphql-http").is_dir():
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(NODE_PACKAGES)]
                + [GRAPHQL_HTTP, "graphql@16"],
                check=True,
                capture_output=True,
                timeout=300,
            )
    return installed


def audit(node_modules: Path, url: str, token: str) -> list[dict]:
    result = subprocess.run(
        ["node", str(RUNNER), url, token],
        env={**os.environ, "NODE_PATH": str(node_modules)},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("product", ["supplier-portal", "finance-ops", "partner-procurement"])
async def test_every_must_of_the_graphql_over_http_audits_passes(live_api, node_modules, product):
    # given a token the product admits
    if product == "partner-procurement":
        token = token_for(live_api, await register(live_api, facilities=["FAC-0001"]))
    else:
        role = Role.SUPPLIER if product == "supplier-portal" else Role.AP_CLERK
        token = live_api.token(role, supplier_id="SUP-000001" if role is Role.SUPPLIER else None)

    # when the audits run against its endpoint
    url = f"{live_api.client.base_url}{live_api.path(product + '/v1')}"
    results = audit(node_modules, url, token)

    # then no MUST fails (SHOULD and MAY findings are warnings and notices)
    assert len(results) > 30
    failed = [r for r in results if r["name"].startswith("MUST") and r["status"] != "ok"]
    assert failed == []
