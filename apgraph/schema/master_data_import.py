"""The payload of `importMasterData`: the same report `apgraph import` prints, as typed data.

A bundle with problems is not an error of the request: it is the answer (every problem with
its file, row or JSON pointer, field and code), so a finance-ops screen can list them next to
the rows at fault. Only a request that cannot be read at all is a top-level error.
"""

from typing import Self

import strawberry

from apgraph.domain.bundle import BundleCode, BundleProblem, ImportReport
from apgraph.schema.enums import register_enum

register_enum(
    BundleCode,
    name="BundleCode",
    description="Why a bundle row cannot be imported (docs/master-data.md lists each).",
)


@strawberry.type(name="BundleProblem", description="One line of the report.")
class BundleProblemType:
    file: str = strawberry.field(description='e.g. "bundle.json", "purchase_order_lines.csv".')
    location: str = strawberry.field(
        description='"row 12" in a CSV file (the header is row 1), or a JSON pointer.'
    )
    field: str | None = strawberry.field(
        description="The column or property at fault; null for the whole row or file."
    )
    code: BundleCode = strawberry.field(description="Why, as a stable code.")
    message: str = strawberry.field(description="What is wrong, for a person.")

    @classmethod
    def from_domain(cls, problem: BundleProblem) -> Self:
        return cls(
            file=problem.file,
            location=problem.location,
            field=problem.field,
            code=problem.code,
            message=problem.message,
        )


@strawberry.type(
    name="BundleProblemCount", description="How many problems of one code the bundle has."
)
class BundleProblemCountType:
    code: BundleCode = strawberry.field(description="The problem code.")
    count: int = strawberry.field(description="Problems with this code, listed or not.")


@strawberry.type(name="ImportCount", description="Rows of one entity: in the bundle, and written.")
class ImportCountType:
    entity: str = strawberry.field(description='e.g. "suppliers", "purchase_order_lines".')
    rows: int = strawberry.field(description="Rows of this entity in the bundle.")
    created: int = strawberry.field(
        description="New rows written (or that would be, on a dry run)."
    )
    updated: int = strawberry.field(description="Stored rows changed (or that would be).")
    unchanged: int = strawberry.field(description="Rows identical to what is stored.")


@strawberry.type(
    name="ImportMasterDataPayload",
    description="What the import found and did; nothing is written unless `applied`.",
)
class ImportMasterDataPayload:
    valid: bool = strawberry.field(description="The bundle has no problem at all.")
    applied: bool = strawberry.field(description="False on a dry run and whenever `valid` is.")
    dry_run: bool = strawberry.field(description="It was a dry run: nothing written.")
    problems: list[BundleProblemType] = strawberry.field(
        description="The first problems found, in file order: at most 1,000 by default "
        "(the server's APGRAPH_IMPORT_LISTED_PROBLEMS); `problemCount` counts them all."
    )
    problem_count: int = strawberry.field(
        description="Every problem found, listed in `problems` or not."
    )
    problem_counts: list[BundleProblemCountType] = strawberry.field(
        description="Every problem found, counted per code (most frequent first)."
    )
    counts: list[ImportCountType] = strawberry.field(
        description="Per entity: rows, created, updated, unchanged."
    )

    @classmethod
    def from_report(cls, report: ImportReport) -> Self:
        return cls(
            valid=report.valid,
            applied=report.applied,
            dry_run=report.dry_run,
            problems=[BundleProblemType.from_domain(p) for p in report.problems],
            problem_count=report.problem_total,
            problem_counts=[
                BundleProblemCountType(code=code, count=count)
                for code, count in sorted(
                    report.problems_by_code.items(), key=lambda item: (-item[1], item[0].value)
                )
            ],
            counts=[
                ImportCountType(
                    entity=entity,
                    rows=rows,
                    created=report.created.get(entity, 0),
                    updated=report.updated.get(entity, 0),
                    unchanged=report.unchanged.get(entity, 0),
                )
                for entity, rows in report.counts.items()
            ],
        )
