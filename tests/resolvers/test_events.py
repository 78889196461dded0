"""events: the caller's events from the outbox, oldest first, with subscription cursors."""

from apgraph.domain.principal import Role
from apgraph.store.database import create_engine
from apgraph.store.outbox import OutboxRepository

EVENTS = """
query($filter: EventFilter, $first: Int, $last: Int) {
  events(filter: $filter, first: $first, last: $last) {
    edges { cursor node { type sequence payload } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def test_a_supplier_lists_only_its_own_invoices_events(api, network):
    # given a supplier with seeded history
    supplier = network.invoices[0].supplier_id
    own = {i.id for i in network.invoices if i.supplier_id == supplier}
    token = api.token(Role.SUPPLIER, supplier_id=supplier)
    # when it lists events page by page, on its portal (v2 has `events`)
    seen, after = [], None
    while True:
        variables = {"first": 100, "filter": {"after": after}}
        page = (await api.data(EVENTS, variables, token=token, product="supplier-portal/v2"))[
            "events"
        ]
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then every event is about one of its invoices, in sequence order, each once
    assert seen
    assert {node["payload"]["version"] for node in seen} == {1}
    sequences = [node["sequence"] for node in seen]
    assert sequences == sorted(set(sequences))
    invoice_of = {e.sequence: e.invoice_id for e in await _all(api)}
    assert {invoice_of[s] for s in sequences} <= own


async def _all(api):
    engine = create_engine(api.settings.resolved_database_url, schema=api.settings.database_schema)
    try:
        return await OutboxRepository(engine).after(0, 100_000)
    finally:
        await engine.dispose()


async def test_last_one_is_the_newest_event_and_filters_apply(api):
    newest = (await api.data(EVENTS, {"last": 1}))["events"]["edges"]
    assert len(newest) == 1
    posted = (await api.data(EVENTS, {"first": 5, "filter": {"type": "invoice.posted"}}))["events"][
        "edges"
    ]
    assert {edge["node"]["type"] for edge in posted} == {"invoice.posted"}


async def test_a_malformed_cursor_is_bad_user_input(api):
    body = await api.graphql(EVENTS, {"filter": {"after": "nope"}})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter.after"}
