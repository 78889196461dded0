"""What the app's start-up leaves to the garbage collector (issue 19).

The long-lived objects that start-up builds (runtime, schema, the simulators' demo network)
are frozen out of the collector's reach once the app has started, so full collections stop
walking them on every page; the server still serves as before.
"""

import gc

from apgraph.gateway.app import YOUNG_GENERATION_THRESHOLD
from tests.conftest import Api

INVOICES = "{ invoices(first: 2) { edges { node { id supplier { id } } } } }"


async def test_start_up_freezes_what_it_built_and_the_server_still_serves(live_api: Api) -> None:
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == YOUNG_GENERATION_THRESHOLD

    body = await live_api.graphql(INVOICES)

    assert "errors" not in body
    assert len(body["data"]["invoices"]["edges"]) == 2
