"""Date-range arguments, checked once: an inverted range is the caller's mistake."""

import datetime

import strawberry

from apgraph.schema.errors import BadUserInput
from apgraph.services.ports.reads import DateRange


@strawberry.input(name="DateRange", description="Inclusive at both ends; either may be left out.")
class DateRangeInput:
    start: datetime.date | None = strawberry.field(
        default=None, name="from", description="First day, YYYY-MM-DD; omit for no lower bound."
    )
    end: datetime.date | None = strawberry.field(
        default=None, name="to", description="Last day, YYYY-MM-DD; omit for no upper bound."
    )


def date_range(given: DateRangeInput | None, *, argument: str) -> DateRange:
    if given is None:
        return DateRange()
    if given.start is not None and given.end is not None and given.start > given.end:
        raise BadUserInput(
            f"`{argument}` ends ({given.end}) before it starts ({given.start})", argument=argument
        )
    return DateRange(start=given.start, end=given.end)
