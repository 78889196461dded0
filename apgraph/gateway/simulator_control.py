"""Driving the simulators: their fault-control API, and master data they learn at run time.

`apgraph simulators serve` answers `/<system>/_control/...` (faults, calls, held, release)
and `POST /_control/master-data` (a bundle.json body joins the books: what `apgraph
simulators load BUNDLE` sends). In embedded dev mode the server offers the same API under
`/simulators/...`, to operators only (admin scope): its simulators run in-process, so there
is no other way to reach them. The simulated systems' own routes are never exposed there.
"""

import dataclasses
import re

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from apgraph.demo.generator import DemoNetwork
from apgraph.services.bundles import read_json
from apgraph.simulators.suite import PREFIXES, Simulators

MASTER_DATA_PATH = "/_control/master-data"
MAX_BUNDLE_BYTES = 100 * 1024 * 1024
PROBLEMS_SHOWN = 50
EMBEDDED_PREFIX = "/simulators"
# what the server forwards to its in-process simulators: control routes only
_SYSTEMS = "|".join(re.escape(prefix) for prefix in PREFIXES.values())
_CONTROL = re.compile(
    rf"^(?:{_SYSTEMS})/_control/[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*$"
    rf"|^{re.escape(MASTER_DATA_PATH)}$"
)


def empty_network() -> DemoNetwork:
    """No facility, supplier or document: simulators that know only what they are taught."""
    return DemoNetwork(**{field.name: () for field in dataclasses.fields(DemoNetwork)})


def master_data_route(simulators: Simulators) -> Route:
    async def load(request: Request) -> Response:
        data = await request.body()
        if len(data) > MAX_BUNDLE_BYTES:
            return _error(413, "PAYLOAD_TOO_LARGE", f"a bundle is at most {MAX_BUNDLE_BYTES} bytes")
        bundle, problems = read_json(data, name="bundle.json")
        if bundle is None:
            return JSONResponse(
                {
                    "code": "INVALID_BUNDLE",
                    "message": f"{len(problems)} problem(s); nothing was loaded",
                    "problems": [problem.line() for problem in problems[:PROBLEMS_SHOWN]],
                },
                status_code=400,
            )
        await simulators.load(bundle)
        return JSONResponse({"loaded": bundle.counts()})

    return Route(MASTER_DATA_PATH, load, methods=["POST"])


def with_master_data_control(simulators: Simulators) -> ASGIApp:
    """The suite's app plus `POST /_control/master-data`."""
    return Starlette(routes=[master_data_route(simulators), Mount("", app=simulators.app)])


async def embedded_control(request: Request) -> Response:
    """`/simulators/<system>/_control/...` of the server's in-process simulators (behind
    RequireBearer; here the admin scope is checked)."""
    principal = request.state.principal
    if "admin" not in principal.scopes:
        return _error(403, "FORBIDDEN", "driving the simulators needs the admin scope")
    simulators: Simulators | None = request.app.state.runtime.connectors.simulators
    path = "/" + request.path_params["rest"]
    if simulators is None:
        return _error(404, "NOT_FOUND", "the connectors are remote: no simulators run here")
    if not _CONTROL.match(path):
        return _error(404, "NOT_FOUND", "only the simulators' /_control routes are offered")
    transport = httpx.ASGITransport(app=with_master_data_control(simulators))
    async with httpx.AsyncClient(transport=transport, base_url="http://simulators") as client:
        answer = await client.request(
            request.method,
            path,
            params=request.query_params,
            content=await request.body(),
            headers={"content-type": request.headers.get("content-type", "application/json")},
        )
    return Response(
        answer.content,
        status_code=answer.status_code,
        media_type=answer.headers.get("content-type"),
    )


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)
