import pytest

from apgraph.domain.invoices import ApprovalDecision as D
from apgraph.domain.invoices import ApprovalStatus as A
from apgraph.domain.invoices import InvoiceStatus as S
from apgraph.domain.invoices import approval_status


@pytest.mark.parametrize(
    ("status", "decisions", "expected"),
    [
        (S.POSTED, [], A.NOT_REQUIRED),
        (S.EXCEPTION, [], A.PENDING),
        (S.EXCEPTION, [D.HELD, D.RELEASED], A.PENDING),
        (S.ON_HOLD, [D.HELD], A.ON_HOLD),
        (S.POSTED, [D.APPROVED], A.APPROVED),
        (S.PAID, [D.HELD, D.RELEASED, D.APPROVED], A.APPROVED),
        (S.REJECTED, [D.REJECTED], A.REJECTED),
        (S.REJECTED, [], A.NOT_REQUIRED),  # rejected by validation, no approver involved
    ],
)
def test_approval_status_follows_status_and_decisions(status, decisions, expected):
    assert approval_status(status, decisions) == expected
