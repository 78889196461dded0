"""Arguments many fields share, each with the description an integrator reads in the schema."""

from typing import Annotated

import strawberry

First = Annotated[
    int | None,
    strawberry.argument(
        description="Page size, 1 to the server's maximum (gateway.yaml limits.max_page_size, "
        "100 as shipped); default limits.default_page_size (20)."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(
        description="Continue after this cursor: the endCursor of the previous page; omit for "
        "the first page. A cursor from another list is BAD_USER_INPUT."
    ),
]
CanonicalId = Annotated[
    strawberry.ID,
    strawberry.argument(description="The canonical ID, e.g. FAC-0001, SUP-000001, INV-00000042."),
]
InvoiceIdArgument = Annotated[
    strawberry.ID, strawberry.argument(description="The invoice acted on, INV-….")
]
FacilityIdArgument = Annotated[
    strawberry.ID, strawberry.argument(description="The facility, FAC-….")
]
FacilityScope = Annotated[
    strawberry.ID | None,
    strawberry.argument(
        description="Only this facility, FAC-…; omit for every facility the caller may see."
    ),
]
