"""Expected business failures as values: a Problem, the DomainError that carries one, Outcome.

A service turns a refused command into `Outcome.failed(problem)` and the schema shows it as a
`userErrors` entry; clients switch on the code, never on the message (STYLE §4).
"""

from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from apgraph.domain.codes import ProblemCode

T = TypeVar("T")

FieldPath = tuple[str, ...]
"""Where in the request the fault is, as GraphQL spells it: ("input", "lines", "2", "quantity")."""


@dataclass(frozen=True, slots=True)
class Problem:
    code: ProblemCode
    message: str
    path: FieldPath = ()

    def at(self, *path: str) -> "Problem":
        """The same problem, pinned to a field: the domain knows what, the caller knows where."""
        return replace(self, path=path)


class DomainError(Exception):
    """A command the rules refuse (an illegal transition, a forbidden approver), with its code."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(f"{problem.code.value}: {problem.message}")
        self.problem = problem

    @classmethod
    def of(cls, code: ProblemCode, message: str) -> "DomainError":
        return cls(Problem(code, message))


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What a use case returns: the value it produced, or every problem that stopped it."""

    value: T | None
    problems: tuple[Problem, ...] = ()

    @classmethod
    def succeeded(cls, value: T) -> "Outcome[T]":
        return cls(value=value)

    @classmethod
    def failed(cls, *problems: Problem) -> "Outcome[T]":
        if not problems:
            raise ValueError("a failed outcome names at least one problem")
        return cls(value=None, problems=problems)

    @property
    def ok(self) -> bool:
        return not self.problems
