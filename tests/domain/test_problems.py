"""Problems, the DomainError that carries one, and Outcome."""

import pytest

from apgraph.domain.codes import ProblemCode
from apgraph.domain.problems import DomainError, Outcome, Problem


def test_a_problem_is_pinned_to_the_field_the_caller_knows():
    problem = Problem(ProblemCode.INVOICE_NOT_FOUND, "no such invoice")
    assert problem.at("invoiceId") == Problem(
        ProblemCode.INVOICE_NOT_FOUND, "no such invoice", ("invoiceId",)
    )


def test_a_domain_error_carries_its_problem_and_says_its_code():
    error = DomainError.of(ProblemCode.ILLEGAL_TRANSITION, "cannot approve INV-00000001")
    assert error.problem.code is ProblemCode.ILLEGAL_TRANSITION
    assert str(error) == "ILLEGAL_TRANSITION: cannot approve INV-00000001"


def test_an_outcome_holds_a_value_or_every_problem():
    assert Outcome.succeeded(7) == Outcome(value=7)
    assert Outcome.succeeded(7).ok
    failed = Outcome[int].failed(
        Problem(ProblemCode.INVALID_QUANTITY, "must be above 0", ("input", "lines", "0")),
        Problem(ProblemCode.NO_LINES, "at least one"),
    )
    assert (failed.ok, failed.value, len(failed.problems)) == (False, None, 2)
    with pytest.raises(ValueError, match="at least one problem"):
        Outcome.failed()


def test_codes_are_their_own_names_so_the_contract_can_lift_them():
    assert all(code.name == code.value for code in ProblemCode)
