"""importMasterData: an uploaded bundle → the onboarding service → the report as typed data."""

from typing import Annotated

import strawberry
from strawberry.file_uploads import Upload

from apgraph.schema.context import Info
from apgraph.schema.master_data_import import ImportMasterDataPayload
from apgraph.services.onboarding import import_upload

DEFAULT_NAME = "bundle.json"  # a client that sends no file name sends the JSON form


async def import_master_data(
    info: Info,
    bundle: Annotated[
        Upload,
        strawberry.argument(
            description="bundle.json, or the CSV files zipped, as a GraphQL multipart upload."
        ),
    ],
    dry_run: Annotated[
        bool, strawberry.argument(description="Check only: report, write nothing.")
    ] = False,
) -> ImportMasterDataPayload:
    ctx = info.context
    limit = ctx.onboarding.max_upload_bytes
    # Starlette hands an UploadFile; read one byte past the limit so an oversized one shows
    data = await bundle.read(limit + 1)  # type: ignore[attr-defined]
    report = await import_upload(
        getattr(bundle, "filename", None) or DEFAULT_NAME,
        data,
        onboarding=ctx.onboarding,
        actor=ctx.principal.subject,
        clock=ctx.clock,
        dry_run=dry_run,
    )
    return ImportMasterDataPayload.from_report(report)
