"""The answer of the validate* queries: valid, or every reason why not."""

from typing import Self

import strawberry

from apgraph.domain.master_data import Reason
from apgraph.schema.enums import ValidationCode


@strawberry.type(name="ValidationReason", description="One reason a check failed.")
class ValidationReasonType:
    code: ValidationCode = strawberry.field(description="Why, as a stable code.")
    message: str = strawberry.field(description="What is wrong, for a person.")

    @classmethod
    def from_domain(cls, reason: Reason) -> Self:
        return cls(code=reason.code, message=reason.message)


def reasons_of(found: list[Reason]) -> list[ValidationReasonType]:
    return [ValidationReasonType.from_domain(reason) for reason in found]
