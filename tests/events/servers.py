"""Real apgraph server processes on loopback for the live-status tests.

`apgraph serve` in a subprocess, as an operator starts it: over PostgreSQL (a schema of its
own) with either the in-process bus (one process) or NATS JetStream (several processes, a
stream prefix of their own on the shared NATS).
"""

import asyncio
import json
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import websockets

from apgraph.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
NATS_URL = os.environ.get("APGRAPH_TEST_NATS_URL", "nats://127.0.0.1:4222")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(settings: Settings, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    env.update(settings.as_environment())
    env["APGRAPH_PORT"] = str(port)
    return env


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[str]:
    """One `apgraph serve` process; yields its base URL once /healthz answers. Its log goes
    to a file in its data directory (a pipe nobody reads would stall it)."""
    port = free_port()
    log_path = settings.data_dir / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "apgraph.cli",
            "serve",
            cwd=ROOT,
            env=environment(settings, port),
            stdout=log,
            stderr=log,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            deadline = asyncio.get_running_loop().time() + 60
            while True:
                assert process.returncode is None, log_path.read_text()[-3000:]
                assert asyncio.get_running_loop().time() < deadline, "server did not start"
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)  # polling for a condition, with a deadline
        yield base
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(30):
                    await process.wait()
            except TimeoutError:
                process.kill()


def unique_prefix() -> str:
    return f"T{uuid.uuid4().hex[:10].upper()}"


class Subscriber:
    """One graphql-transport-ws connection: subscribe, then read `next` payloads."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._ids = 0

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, base: str, token: str, path: str = "/graphql"
    ) -> AsyncIterator["Subscriber"]:
        """`path`: the caller's endpoint, e.g. /products/supplier-portal/v1/graphql."""
        url = base.replace("http://", "ws://") + path
        async with websockets.connect(
            url,
            subprotocols=["graphql-transport-ws"],
            additional_headers={"Authorization": f"Bearer {token}"},
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            ack = json.loads(await ws.recv())
            assert ack["type"] == "connection_ack", ack
            yield cls(ws)

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._ids += 1
        operation = str(self._ids)
        await self.ws.send(
            json.dumps(
                {
                    "id": operation,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )
        return operation

    async def message(self, within: float = 30) -> dict[str, Any]:
        async with asyncio.timeout(within):
            while True:
                message = json.loads(await self.ws.recv())
                if message["type"] == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                    continue
                return message


class SseSubscriber:
    """graphql-sse (distinct connections): one HTTP stream per subscription. `message()`
    answers in graphql-transport-ws's shape ({"type": "next"|"complete", "payload": …}) so the
    same tests run on both transports."""

    def __init__(self, client: httpx.AsyncClient, token: str, path: str = "/graphql") -> None:
        self.client = client
        self.token = token
        self.path = path
        self._streams: list[Any] = []
        self._lines: Any = None

    @classmethod
    @asynccontextmanager
    async def connect(
        cls, base: str, token: str, path: str = "/graphql"
    ) -> AsyncIterator["SseSubscriber"]:
        """`path`: the caller's endpoint; its stream is at `path`/stream."""
        async with httpx.AsyncClient(base_url=base, timeout=None) as client:
            subscriber = cls(client, token, path)
            try:
                yield subscriber
            finally:
                for stream in subscriber._streams:
                    await stream.__aexit__(None, None, None)

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        stream = self.client.stream(
            "POST",
            self.path + "/stream",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"},
        )
        response = await stream.__aenter__()
        self._streams.append(stream)
        assert response.status_code == 200, await response.aread()
        self.response = response
        self._lines = response.aiter_lines()
        return str(len(self._streams))

    async def message(self, within: float = 30) -> dict[str, Any]:
        event, data = None, None
        async with asyncio.timeout(within):
            async for line in self._lines:
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data = line.removeprefix("data: ")
                elif line == "" and event is not None:
                    return {"type": event, "payload": json.loads(data) if data else None}
        return {"type": "closed", "payload": None}


async def changes_until_posted(
    subscriber: "Subscriber | SseSubscriber", invoice_id: str
) -> list[dict]:
    """Every change received until `invoice_id` is POSTED, whichever invoice it is about."""
    seen: list[dict] = []
    while not any(c["invoiceId"] == invoice_id and c["status"] == "POSTED" for c in seen):
        message = await subscriber.message()
        assert message["type"] == "next", message
        seen.append(message["payload"]["data"]["invoiceStatusChanged"])
    return seen
