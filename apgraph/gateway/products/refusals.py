"""The one shape of a refusal made before GraphQL runs: a GraphQL-style JSON error whose
`extensions.code` is stable, so clients switch on it whichever layer said no."""

from collections.abc import Mapping

from starlette.responses import JSONResponse

WEBSOCKET_FORBIDDEN = 4403  # graphql-transport-ws leaves 44xx to the server


def refusal(
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extensions: object,
) -> JSONResponse:
    error = {"message": message, "extensions": {"code": code, **extensions}}
    return JSONResponse({"data": None, "errors": [error]}, status_code=status, headers=headers)
