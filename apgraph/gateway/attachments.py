"""GET /attachments/{id}/content: the bytes of one attachment, for callers who may see it."""

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from apgraph.domain import ids
from apgraph.store.read_store import ReadStore


async def attachment_content(request: Request) -> Response:
    raw = request.path_params["attachment_id"]
    try:
        attachment_id = ids.attachment(raw)
    except ids.InvalidId as error:
        return JSONResponse({"code": "BAD_USER_INPUT", "message": str(error)}, status_code=400)
    principal = request.state.principal  # RequireBearer let the request through
    store = ReadStore.scoped(request.app.state.runtime.engine, principal.row_scope)
    found = await store.attachments.with_content(attachment_id)
    if found is None:  # unknown and not-yours answer alike
        return JSONResponse(
            {"code": "NOT_FOUND", "message": f"no attachment {attachment_id}"}, status_code=404
        )
    attachment, content = found
    return Response(
        content,
        media_type=attachment.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{attachment.filename}"',
            "ETag": f'"{attachment.sha256}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
