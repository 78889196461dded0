"""Serves the operations dashboard: one HTML page and its assets, all from the package.

The page holds no data: it asks the GraphQL API with the viewer's own token, so the row-level
access of the API applies to every figure (an approver's dashboard shows their facilities
only). No CDN: hospital networks are often closed. The Content-Security-Policy allows this
server and nothing else.
"""

from functools import cache
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

ASSETS = {"index.html": "text/html", "dashboard.js": "text/javascript", "dashboard.css": "text/css"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def asset(name: str) -> bytes:
    return (files(__package__) / "assets" / name).read_bytes()


async def dashboard_page(_: Request) -> Response:
    return Response(asset("index.html"), media_type=ASSETS["index.html"], headers=SECURITY_HEADERS)


async def dashboard_asset(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS or name == "index.html":
        return PlainTextResponse("not found", status_code=404)
    return Response(asset(name), media_type=ASSETS[name], headers=SECURITY_HEADERS)
