"""`deadLetters` and `replayDeadLetter` over HTTP, on SQLite and PostgreSQL: operators list the
one dead-letter store and replay a letter once; nobody else sees or replays it."""

import pytest

from apgraph.domain.principal import Role
from tests.services.test_dead_letters import failed_posting, letters_of, reopen_erps
from tests.workflow import erp_postings

LETTERS = """
query Letters($filter: DeadLetterFilter, $first: Int, $after: String) {
  deadLetters(filter: $filter, first: $first, after: $after) {
    edges { node { id kind subject code attempts resolved outcome } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
REPLAY = """
mutation Replay($id: ID!) {
  replayDeadLetter(id: $id) {
    deadLetter { id subject resolved outcome resolvedBy attempts }
    userErrors { code field }
  }
}
"""
OPEN_POSTINGS = {"kind": "POSTING", "resolved": False}


async def open_postings(api) -> list[dict]:
    found, after = [], None
    while True:
        data = await api.data(LETTERS, {"filter": OPEN_POSTINGS, "first": 100, "after": after})
        found += [edge["node"] for edge in data["deadLetters"]["edges"]]
        if not data["deadLetters"]["pageInfo"]["hasNextPage"]:
            return found
        after = data["deadLetters"]["pageInfo"]["endCursor"]


async def test_an_operator_replays_a_failed_posting_once_and_a_second_replay_answers_the_first(
    workflow_api, orders
):
    api = workflow_api
    # given a posting that failed past every retry, the ERPs back since
    try:
        invoice = await failed_posting(api, orders)
    finally:
        reopen_erps(api.runtime)

    # when an operator lists the open postings
    [letter] = [x for x in await open_postings(api) if x["subject"] == invoice.id]

    # then it is there once, with its failure
    assert (letter["kind"], letter["code"], letter["attempts"], letter["resolved"]) == (
        "POSTING",
        "ERP_UNAVAILABLE",
        1,
        False,
    )

    # when it is replayed, twice
    first = (await api.data(REPLAY, {"id": letter["id"]}))["replayDeadLetter"]
    second = (await api.data(REPLAY, {"id": letter["id"]}))["replayDeadLetter"]

    # then the first posts it, the second answers the first outcome, and the ERP booked it once
    assert first["userErrors"] == []
    assert first["deadLetter"]["resolved"] is True
    assert first["deadLetter"]["outcome"].startswith("POSTED ")
    assert second["userErrors"] == [{"code": "DEAD_LETTER_ALREADY_REPLAYED", "field": ["id"]}]
    assert second["deadLetter"] == first["deadLetter"]
    assert erp_postings(api.runtime, invoice.id, invoice.facility_id) == 1
    assert letter["id"] not in {x["id"] for x in await open_postings(api)}


async def test_replaying_an_unknown_letter_is_a_user_error(api):
    body = (await api.data(REPLAY, {"id": "DL-999999999"}))["replayDeadLetter"]

    assert body == {
        "deadLetter": None,
        "userErrors": [{"code": "DEAD_LETTER_NOT_FOUND", "field": ["id"]}],
    }


@pytest.mark.parametrize(
    ("role", "who", "product"),
    [
        (Role.SUPPLIER, {"supplier_id": "SUP-000001"}, "supplier-portal/v1"),
        (Role.APPROVER, {"facility_ids": ["FAC-0001"]}, "finance-ops/v1"),  # no admin scope
        (Role.AUDITOR, {}, "finance-ops/v1"),
    ],
)
async def test_only_operators_list_or_replay_dead_letters(workflow_api, orders, role, who, product):
    api = workflow_api
    try:
        invoice = await failed_posting(api, orders)
    finally:
        reopen_erps(api.runtime)
    [letter] = await letters_of(api.runtime, invoice.id)
    token = api.token(role, **who)

    # when someone without the admin scope lists and replays, on its product and on /graphql
    listed = await api.graphql(LETTERS, {"filter": OPEN_POSTINGS}, token=token, product=product)
    replayed = await api.graphql(REPLAY, {"id": letter.id}, token=token, product=product)
    internal = await api.graphql(REPLAY, {"id": letter.id}, token=token)

    # then each is refused (no product's view has dead letters; /graphql is the operators'),
    # and the letter waits untouched, the invoice posted nowhere
    assert listed["data"] is None
    assert listed["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert replayed["data"] is None
    assert replayed["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert internal["data"] is None
    assert internal["errors"][0]["extensions"]["code"] == "OPERATORS_ONLY"
    assert await letters_of(api.runtime, invoice.id) == [letter]
    assert erp_postings(api.runtime, invoice.id, invoice.facility_id) == 0


async def test_the_supplier_portal_has_no_dead_letters(api):
    token = api.token(Role.SUPPLIER, supplier_id="SUP-000001")

    body = await api.graphql(LETTERS, token=token, product="supplier-portal/v1")

    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_cursor_from_another_list_is_bad_user_input(api):
    body = await api.graphql(LETTERS, {"after": "bm90IGEgY3Vyc29y"})

    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
