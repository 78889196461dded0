"""Bodies over the limit are refused with 413 before the app reads them, declared or streamed."""

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from apgraph.gateway.body_limit import BodyLimit

LIMIT = 1000


def app_behind_limit() -> tuple[BodyLimit, list[int]]:
    seen: list[int] = []

    async def echo(request: Request) -> JSONResponse:
        body = await request.body()
        seen.append(len(body))
        return JSONResponse({"length": len(body)})

    return BodyLimit(Starlette(routes=[Route("/", echo, methods=["POST"])]), max_bytes=LIMIT), seen


async def post(app, content) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.post("/", content=content)


async def test_a_body_within_the_limit_reaches_the_app():
    app, seen = app_behind_limit()

    response = await post(app, b"x" * LIMIT)

    assert response.json() == {"length": LIMIT}
    assert seen == [LIMIT]


async def test_a_declared_length_over_the_limit_is_refused_unread():
    app, seen = app_behind_limit()

    response = await post(app, b"x" * (LIMIT + 1))

    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert seen == []


async def test_a_streamed_body_is_cut_off_once_it_passes_the_limit():
    app, seen = app_behind_limit()

    async def chunks():
        for _ in range(50):
            yield b"x" * 100  # 5,000 bytes, no Content-Length

    response = await post(app, chunks())

    assert response.status_code == 413
    assert seen == []


def test_a_limit_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        BodyLimit(Starlette(), max_bytes=0)
