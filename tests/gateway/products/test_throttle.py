"""Requests per minute per client and product: refused with 429, Retry-After and the
RateLimit headers before the body is read; shared through Redis by every instance, as are
the operations clients register by APQ."""

import hashlib
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from apgraph.domain.principal import Role
from apgraph.store.database import counting_statements
from tests.cli.test_serve import APGRAPH, ROOT, environment, free_port, wait_until_healthy
from tests.conftest import Api
from tests.databases import IN_CI
from tests.gateway.products.conftest import app_with, shipped_config

PORTAL = "supplier-portal/v1"
QUERY = {"query": "{ viewer { supplierId } }"}
REDIS_URL = "redis://127.0.0.1:6379"


def require_redis() -> None:
    """Under CI=true an unreachable Redis fails the test; elsewhere it is skipped."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError as problem:
        if IN_CI:
            pytest.fail(f"Redis must run under CI=true but is unreachable: {problem}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {problem}")


def three_a_minute(raw: dict) -> None:
    raw["products"]["supplier-portal"]["limits"] = {"requests_per_minute": 3}


@pytest.fixture(scope="module")
async def throttled(seeded_database, tmp_path_factory) -> AsyncIterator[Api]:
    async with app_with(seeded_database, tmp_path_factory.mktemp("rates"), three_a_minute) as api:
        yield api


async def test_over_the_request_budget_is_429_with_retry_after_before_anything_runs(throttled):
    # given a supplier that sent its 3 requests of the minute
    token = throttled.token(Role.SUPPLIER, supplier_id="SUP-000001")
    headers = throttled.headers(token)
    remaining = []
    for _ in range(3):
        response = await throttled.client.post(throttled.path(PORTAL), json=QUERY, headers=headers)
        assert response.status_code == 200
        remaining.append(response.headers["ratelimit-remaining"])

    # when it sends a fourth
    with counting_statements() as count:
        response = await throttled.client.post(throttled.path(PORTAL), json=QUERY, headers=headers)

    # then it is refused with the headers a client needs to back off, and nothing ran
    assert remaining == ["2", "1", "0"]
    assert response.status_code == 429
    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["ratelimit-limit"] == "3"
    assert response.headers["ratelimit-remaining"] == "0"
    assert response.headers["ratelimit-policy"].startswith("3;w=60")
    assert count.statements == 0


async def test_each_client_has_a_budget_of_its_own(throttled):
    for supplier in ("SUP-000002", "SUP-000002", "SUP-000002", "SUP-000003"):
        token = throttled.token(Role.SUPPLIER, supplier_id=supplier)
        response = await throttled.client.post(
            throttled.path(PORTAL), json=QUERY, headers=throttled.headers(token)
        )
        assert response.status_code == 200


@pytest.fixture
def two_servers_sharing_redis(tmp_path: Path) -> Iterator[tuple[list[str], str]]:
    """Two `apgraph serve` processes on one database and one Redis; the portal admits 4
    requests a minute per client. Yields their base URLs and a supplier token."""
    require_redis()
    raw = shipped_config()
    three_a_minute(raw)
    raw["products"]["supplier-portal"]["limits"]["requests_per_minute"] = 4
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    data_dir = tmp_path / "data"
    env = environment(
        APGRAPH_REDIS_URL=REDIS_URL,
        APGRAPH_REDIS_KEY_PREFIX=f"apgraph-test-{uuid.uuid4().hex}",  # this run's keys only
        APGRAPH_GATEWAY_CONFIG=str(config),
        APGRAPH_RELAY_INTERVAL_SECONDS="0",
    )
    processes: list[subprocess.Popen] = []
    bases = []
    try:
        for _ in range(2):  # one after the other: the first migrates and seeds
            port = free_port()
            process = subprocess.Popen(
                [*APGRAPH, "serve", "--port", str(port), "--data-dir", str(data_dir)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            processes.append(process)
            bases.append(f"http://127.0.0.1:{port}")
            wait_until_healthy(bases[-1], process)
        token = subprocess.run(
            [*APGRAPH, "token", "--role", "supplier", "--supplier", "SUP-000001"]
            + ["--data-dir", str(data_dir)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout.strip()
        yield bases, token
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=60)


def test_two_instances_sharing_redis_answer_429_at_the_shared_budget(two_servers_sharing_redis):
    bases, token = two_servers_sharing_redis
    headers = {"Authorization": f"Bearer {token}"}

    # when the client alternates between the two instances, 6 requests in all
    statuses = [
        httpx.post(f"{bases[i % 2]}/products/{PORTAL}/graphql", json=QUERY, headers=headers)
        for i in range(6)
    ]

    # then the 5th and 6th are refused: 4 a minute in all, not 4 per instance
    assert [r.status_code for r in statuses] == [200, 200, 200, 200, 429, 429]
    assert statuses[4].json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_an_operation_registered_on_one_instance_runs_by_its_hash_on_the_other(
    two_servers_sharing_redis,
):
    bases, token = two_servers_sharing_redis
    headers = {"Authorization": f"Bearer {token}"}
    query = f"query Mine{uuid.uuid4().hex[:8]} {{ viewer {{ supplierId }} }}"
    digest = hashlib.sha256(query.encode()).hexdigest()
    by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}

    def send(base: str, body: dict) -> httpx.Response:
        return httpx.post(f"{base}/products/{PORTAL}/graphql", json=body, headers=headers)

    # given an operation neither instance has seen, registered on the first (Apollo's way:
    # the hash, refused as not found, then the text with the hash)
    missing = send(bases[0], by_hash)
    registered = send(bases[0], {**by_hash, "query": query})

    # when the client sends only the hash to the other instance
    elsewhere = send(bases[1], by_hash)

    # then the other instance runs it: the registration is shared, not per process
    assert missing.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert registered.json()["data"] == {"viewer": {"supplierId": "SUP-000001"}}
    assert elsewhere.status_code == 200
    assert elsewhere.json() == registered.json()
