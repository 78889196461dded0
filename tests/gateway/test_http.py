"""GraphQL over HTTP: methods, status codes, content types; probes; attachment content."""

import hashlib

QUERY = "{ viewer { subject } }"


async def test_post_answers_json(api):
    response = await api.client.post("/graphql", json={"query": QUERY}, headers=api.headers())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] == {"viewer": {"subject": "finance.admin"}}


async def test_get_runs_a_query(api):
    response = await api.client.get("/graphql", params={"query": QUERY}, headers=api.headers())
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": {"subject": "finance.admin"}}


async def test_a_body_that_is_not_json_is_a_400(api):
    response = await api.client.post(
        "/graphql",
        content=b"{not json",
        headers={"content-type": "application/json", **api.headers()},
    )
    assert response.status_code == 400


async def test_a_syntax_error_is_reported_with_a_stable_code(api):
    response = await api.client.post(
        "/graphql", json={"query": "{ viewer { "}, headers=api.headers()
    )
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_an_unknown_field_is_reported_with_a_stable_code(api):
    body = await api.graphql("{ nope }")
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_query_deeper_than_the_limit_is_refused(api):
    hops = 5  # facilities > edges > node, then 2 levels a hop, then id: depth 14 > 10
    query = "{ facilities { edges { node { " + "costCenters { facility { " * hops + "id"
    query += " }" * (2 * hops + 3) + " }"
    body = await api.graphql(query)
    (error,) = body["errors"]
    assert "exceeds maximum operation depth" in error["message"]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_more_aliases_than_the_limit_are_refused(api):
    query = "{ " + " ".join(f"a{i}: viewer {{ subject }}" for i in range(31)) + " }"
    body = await api.graphql(query)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_healthz_and_readyz_answer(api):
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok"}


async def test_attachment_content_is_served_with_its_metadata(api, network):
    attachment = network.attachments[0]
    response = await api.client.get(f"/attachments/{attachment.id}/content", headers=api.headers())
    assert response.status_code == 200
    assert response.headers["content-type"] == attachment.media_type
    assert hashlib.sha256(response.content).hexdigest() == attachment.sha256
    assert response.headers["etag"] == f'"{attachment.sha256}"'
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_unknown_and_malformed_attachments_are_404_and_400(api):
    missing = await api.client.get("/attachments/DOC-99999999/content", headers=api.headers())
    assert (missing.status_code, missing.json()["code"]) == (404, "NOT_FOUND")
    malformed = await api.client.get(
        "/attachments/..%2Fetc%2Fpasswd/content", headers=api.headers()
    )
    assert malformed.status_code in (400, 404)
    bad = await api.client.get("/attachments/DOC-1/content", headers=api.headers())
    assert (bad.status_code, bad.json()["code"]) == (400, "BAD_USER_INPUT")


async def test_graphiql_is_served_in_dev_mode_without_a_token_to_a_stranger(api):
    # given no token at all: the page itself is open in dev mode; this in-process client
    # asks for host apgraph.test, not this machine's name, so it gets no token
    # (tests/gateway/graphiql/ covers who gets one)
    response = await api.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    assert "Bearer ey" not in response.text


async def test_a_query_sent_by_get_with_html_accepted_still_needs_a_token(api):
    response = await api.client.get(
        "/graphql", params={"query": QUERY}, headers={"accept": "text/html"}
    )
    assert response.status_code == 401
