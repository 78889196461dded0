"""Business failures of a mutation, as typed data next to the fields at fault (Saleor and
Shopify's `userErrors`). The codes belong to the domain and are lifted into a GraphQL enum.
"""

from typing import Self

import strawberry

from apgraph.domain.codes import ProblemCode
from apgraph.domain.problems import Problem
from apgraph.schema.enums import register_enum

register_enum(ProblemCode, name="UserErrorCode")


@strawberry.type(name="UserError", description="Why a mutation was refused, and where.")
class UserError:
    code: ProblemCode = strawberry.field(description="Why, as a stable code to branch on.")
    message: str = strawberry.field(description="What is wrong, for a person; may change wording.")
    field: list[str] | None = strawberry.field(
        description='Path to the input at fault, e.g. ["input", "lines", "2", "quantity"].'
    )

    @classmethod
    def from_problem(cls, problem: Problem) -> Self:
        return cls(code=problem.code, message=problem.message, field=list(problem.path) or None)


def user_errors(problems: list[Problem] | tuple[Problem, ...]) -> list[UserError]:
    return [UserError.from_problem(problem) for problem in problems]
