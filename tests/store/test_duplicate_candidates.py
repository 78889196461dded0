"""The duplicate rules read only their candidates (InvoiceWrites.duplicate_candidates), yet
decide exactly as they did over every invoice of the supplier: on both databases, for numbers
written every which way, in and out of the window, rejected or in another currency, whatever
rules keyed the stored numbers; and the keys follow a change of the rules (number_keys.py).
"""

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import product

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.codes import MatchCode, ValidationCode
from apgraph.domain.invoice_numbers import NumberRules
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.review import ReviewRules, review_invoice
from apgraph.domain.validation import ValidationFacts, validate_invoice
from apgraph.policies.matching import DuplicatePolicy
from apgraph.store.invoices import invoice_from_row
from apgraph.store.number_keys import digest, make_keys
from apgraph.store.tables import InvoiceRow
from apgraph.store.unit_of_work import SqlUnitOfWork
from bench.duplicate_check import as_submitted

RULES = DuplicatePolicy().numbers()  # as shipped: every step, Unicode's confusables
LOOSER = DuplicatePolicy(map_confusables=False, ignore_leading_zeros=False).numbers()
WINDOW = 7
DAY = date(2026, 11, 2)
AT = datetime(2026, 11, 20, 9, tzinfo=UTC)
_invoices = InvoiceRow.__table__.c


@dataclass(frozen=True)
class OnFile:
    number: str
    total: str
    currency: str = "USD"
    days: int = 0  # dated this many days after DAY
    status: InvoiceStatus = InvoiceStatus.POSTED
    keyed_by: NumberRules | None = RULES  # None: stored before keys were


# One supplier's invoices, in the order received. The notes say what each can be found by
# when the rules are RULES; under LOOSER the ones keyed by RULES are the stale ones.
ON_FILE = (
    OnFile("INV-001", "310.00"),  # 0: its number's key only
    OnFile("\u0406NV-0005", "320.00", keyed_by=LOOSER),  # 1: Cyrillic І, keyed otherwise
    OnFile("inv 6", "330.00", keyed_by=None),  # 2: no key yet
    OnFile("INV-008", "340.00", status=InvoiceStatus.REJECTED),  # never a duplicate
    OnFile("X-77", "100.00"),  # 4: currency and total, in the window
    OnFile("X-78", "150.00", currency="CAD"),  # 5: only for CAD
    OnFile("INV-002", "200.00", days=-30),  # 6: outside the window, one edit from INV-001
    OnFile("INV-0099", "200.00", days=-30, keyed_by=LOOSER),  # 7: same total, far number
    OnFile("Y-5", "500.00", days=-30),  # 8: outside the window, numbers far apart
    OnFile("Y-6", "500.00", days=30, keyed_by=None),  # 9
    OnFile("Z-9", "600.00", days=3, status=InvoiceStatus.REJECTED),  # never a duplicate
    OnFile("\u0399NV-0O1", "700.00", days=-60),  # 11: Greek Ι; 0O is not 00
)

# Every combination is checked; numbers written as on file and otherwise.
PROBE_NUMBERS = (
    "INV-001",
    "inv 1",
    "INV-\uff10\uff10\uff11",  # full-width digits
    "INV-5",
    "\u0456nv 0005",  # ON_FILE[1] under LOOSER too
    "INV-006",
    "INV-6",  # ON_FILE[2] under LOOSER too
    "INV-008",
    "INV-003",
    "X-77",
    "Y-7",
    "Z-9",
    "INV-0O1",
    "NEW-1",
)
PROBE_TOTALS = ("100.00", "150.00", "200.00", "310.00", "500.00", "600.00", "0.03")
PROBE_CURRENCIES = ("USD", "CAD")
PROBE_DAYS = (0, 7, 8, -23, -37)


@dataclass(frozen=True)
class Stored:
    supplier_id: str
    ids: tuple[str, ...]  # of ON_FILE, in order
    template: Invoice


@pytest.fixture
async def stored(seeded: AsyncEngine, tiny_network) -> Stored:
    """ON_FILE stored for one seeded supplier, whose seeded invoices are keyed by RULES."""
    template = next(i for i in tiny_network.invoices if i.purchase_order_id is not None)
    lines = [line for owner, line in tiny_network.invoice_lines if owner == template.id]
    await make_keys(seeded, RULES)
    ids = []
    async with SqlUnitOfWork(seeded) as uow:
        for n, entry in enumerate(ON_FILE):
            invoice = replace(
                template,
                id=await uow.invoices.next_id(),
                supplier_invoice_number=entry.number,
                currency=entry.currency,
                total=Decimal(entry.total),
                invoice_date=DAY + timedelta(days=entry.days),
                status=entry.status,
                received_at=AT + timedelta(minutes=n),
            )
            await uow.invoices.add(
                invoice, lines, number=(entry.keyed_by or RULES).keyed(entry.number)
            )
            ids.append(invoice.id)
        unkeyed = [i for i, entry in zip(ids, ON_FILE, strict=True) if entry.keyed_by is None]
        await uow.invoices.connection.execute(
            update(InvoiceRow)
            .where(_invoices.id.in_(unkeyed))
            .values(number_key=None, number_key_rules=None)
        )
        await uow.commit()
    return Stored(template.supplier_id, tuple(ids), template)


async def every_invoice_of(engine: AsyncEngine, supplier_id: str) -> list[Invoice]:
    """What the rules were given before candidates: the supplier's invoices, all of them."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(InvoiceRow.__table__).where(_invoices.supplier_id == supplier_id)
        )
        return [invoice_from_row(row) for row in rows]


async def candidates(engine: AsyncEngine, probe: Invoice, rules: NumberRules) -> list[Invoice]:
    async with SqlUnitOfWork(engine) as uow:
        found = await uow.invoices.duplicate_candidates(
            probe.supplier_id,
            number=rules.keyed(probe.supplier_invoice_number),
            currency=probe.currency,
            total=probe.total,
        )
    return list(found)


def probe_of(stored: Stored, number: str, total: str, currency: str, days: int) -> Invoice:
    return replace(
        stored.template,
        id="INV-99999999",
        supplier_invoice_number=number,
        currency=currency,
        total=Decimal(total),
        invoice_date=DAY + timedelta(days=days),
        status=InvoiceStatus.VALIDATED,
        received_at=AT + timedelta(days=1),
    )


def decisions(probe: Invoice, on_file: list[Invoice], rules: NumberRules) -> tuple[object, ...]:
    """Validation's reasons and review's findings, messages and all (they name the invoice)."""
    submitted = as_submitted(probe)
    reasons = validate_invoice(
        submitted,
        ValidationFacts(None, None, None, on_file),
        duplicate_window_days=WINDOW,
        numbers=rules,
    )
    findings = review_invoice(
        probe,
        order=None,
        on_file=on_file,
        rules=ReviewRules(numbers=rules, near_duplicate_distance=1),
        duplicate_window_days=WINDOW,
    )
    return (
        [r for r in reasons if r.code is ValidationCode.DUPLICATE_INVOICE],
        [f for f in findings if f.code is MatchCode.POSSIBLE_DUPLICATE],
    )


@pytest.mark.parametrize("rules", [RULES, LOOSER], ids=["shipped rules", "looser rules"])
async def test_the_rules_decide_over_the_candidates_as_over_every_invoice_on_file(
    stored: Stored, seeded: AsyncEngine, rules: NumberRules
):
    # given the supplier's invoices on file, keyed by these rules, by others, or not at all
    everything = await every_invoice_of(seeded, stored.supplier_id)
    named: set[str] = set()

    # when every probe is checked against its candidates and against all of them
    for number, total, currency, days in product(
        PROBE_NUMBERS, PROBE_TOTALS, PROBE_CURRENCIES, PROBE_DAYS
    ):
        probe = probe_of(stored, number, total, currency, days)
        found = await candidates(seeded, probe, rules)

        # then the decisions are the same, to the invoice each names
        expected = decisions(probe, everything, rules)
        assert decisions(probe, found, rules) == expected, probe
        named |= {
            invoice_id
            for said in expected
            for reason in said  # type: ignore[attr-defined]
            for invoice_id in re.findall(r"INV-\d{8}", reason.message)
        }

    # and every way of being found was needed: each kind of stored invoice was named
    ids = stored.ids
    assert {ids[0], ids[1], ids[2], ids[4], ids[5], ids[6], ids[8], ids[9]} <= named
    assert not {ids[3], ids[10]} & named  # rejected


async def test_candidates_are_few_however_long_the_history(stored: Stored, seeded: AsyncEngine):
    # given a number nothing on file has, and a total on file only in another currency
    everything = await every_invoice_of(seeded, stored.supplier_id)
    probe = probe_of(stored, "NEW-1", "150.00", "USD", 0)

    # when its candidates are read
    found = await candidates(seeded, probe, RULES)

    # then they are the invoices with its currency and total (the seed's, if any), and those
    # whose numbers are not keyed by these rules: not the rest of the supplier's history
    stale = {i for i, entry in zip(stored.ids, ON_FILE, strict=True) if entry.keyed_by is not RULES}
    same_total = {i.id for i in everything if (i.currency, i.total) == ("USD", probe.total)}
    assert {invoice.id for invoice in found} == stale | same_total
    assert len(everything) > len(found) + 5


async def test_a_change_of_the_rules_keys_the_numbers_again(stored: Stored, seeded: AsyncEngine):
    # given numbers keyed by the shipped rules, by looser ones, and not at all
    everything = await every_invoice_of(seeded, stored.supplier_id)
    cyrillic = probe_of(stored, "INV-005", "1.00", "USD", 0)  # ON_FILE[1] by the shipped rules
    before = await candidates(seeded, cyrillic, RULES)

    # when the server starts with the shipped rules
    keyed = await make_keys(seeded, RULES)

    # then exactly the others were keyed again, and a second start has nothing to do
    assert keyed == sum(1 for entry in ON_FILE if entry.keyed_by is not RULES)
    assert await make_keys(seeded, RULES) == 0
    async with seeded.connect() as connection:
        rows = (
            await connection.execute(
                select(
                    _invoices.supplier_invoice_number,
                    _invoices.number_key,
                    _invoices.number_key_rules,
                )
            )
        ).all()
    assert {(key, rules) for number, key, rules in rows} == {
        (digest(RULES.key(number)), RULES.fingerprint) for number, _, _ in rows
    }

    # and the Cyrillic number is found by its key now, named as it was before
    after = await candidates(seeded, cyrillic, RULES)
    assert [i.id for i in after] == [stored.ids[1]]
    assert stored.ids[1] in {i.id for i in before}
    assert decisions(cyrillic, after, RULES) == decisions(cyrillic, everything, RULES)
    assert decisions(cyrillic, after, RULES)[0]  # a duplicate

    # and the looser rules, were they configured next, key every number again
    assert await make_keys(seeded, LOOSER) == len(rows)
    assert decisions(cyrillic, await candidates(seeded, cyrillic, LOOSER), LOOSER) == (
        [],
        [],
    )  # under them І is not I
