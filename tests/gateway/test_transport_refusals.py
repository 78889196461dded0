"""Refusals before any GraphQL runs: bodies too large or too deep, malformed or unsupported
requests. Each is JSON with a stable `errors[].extensions.code`, never plain text or a 500."""

import json

DEEP = 10_000
HOLD = 'mutation { holdInvoice(input: {invoiceId: "INV-00000001"}) { __typename } }'
IMPORT = "mutation($b: Upload!) { importMasterData(bundle: $b, dryRun: true) { dryRun } }"


def nested(depth):
    return "[" * depth + "]" * depth


def refusal(response):
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert body["data"] is None
    return response.status_code, body["errors"][0]["extensions"]["code"]


async def post_raw(api, content, content_type="application/json", **kwargs):
    return await api.client.post(
        "/graphql",
        content=content,
        headers={**api.headers(), "content-type": content_type},
        **kwargs,
    )


async def test_a_plain_graphql_body_over_a_megabyte_is_refused_with_413(live_api):
    padding = "x" * (1024 * 1024 + 1)
    body = json.dumps({"query": "{ viewer { subject } }", "variables": {"pad": padding}})

    response = await post_raw(live_api, body)

    assert refusal(response) == (413, "PAYLOAD_TOO_LARGE")


async def test_only_an_import_upload_may_be_larger_than_a_megabyte(live_api):
    # a bundle.json of 2 MB (padding is valid JSON whitespace) as a multipart upload
    bundle = b"{}" + b" " * (2 * 1024 * 1024)

    response = await live_api.client.post(
        "/graphql",
        headers=live_api.headers(),
        data={
            "operations": json.dumps({"query": IMPORT, "variables": {"b": None}}),
            "map": json.dumps({"0": ["variables.b"]}),
        },
        files={"0": ("bundle.json", bundle, "application/json")},
    )

    assert response.status_code == 200
    assert response.json()["data"] == {"importMasterData": {"dryRun": True}}


async def test_variables_nested_ten_thousand_deep_are_a_400_not_a_500(live_api):
    body = '{"query": "{ viewer { subject } }", "variables": {"v": ' + nested(DEEP) + "}}"

    response = await post_raw(live_api, body)

    assert refusal(response) == (400, "JSON_TOO_DEEP")


async def test_deep_variables_are_the_same_400_in_production(live_production_api):
    body = '{"query": "{ viewer { subject } }", "variables": {"v": ' + nested(DEEP) + "}}"

    response = await post_raw(live_production_api, body)

    assert refusal(response) == (400, "JSON_TOO_DEEP")


async def test_multipart_operations_nested_ten_thousand_deep_are_a_400_not_a_500(live_api):
    operations = (
        '{"query": ' + json.dumps(IMPORT) + ', "variables": {"b": null, "v": ' + nested(DEEP) + "}}"
    )
    response = await live_api.client.post(
        "/graphql",
        headers=live_api.headers(),
        data={"operations": operations, "map": json.dumps({"0": ["variables.b"]})},
        files={"0": ("bundle.json", b"{}", "application/json")},
    )

    assert refusal(response) == (400, "JSON_TOO_DEEP")


async def test_malformed_json_is_refused_as_json(live_api):
    response = await post_raw(live_api, '{"query": ')

    assert refusal(response) == (400, "MALFORMED_JSON")


async def test_an_unsupported_content_type_is_refused_as_json(live_api):
    response = await post_raw(live_api, "query { viewer { subject } }", "text/plain")

    assert refusal(response) == (415, "UNSUPPORTED_CONTENT_TYPE")


async def test_a_mutation_over_get_is_refused_as_json(live_api):
    response = await live_api.client.get(
        "/graphql",
        params={
            "query": 'mutation { holdInvoice(input: {invoiceId: "INV-00000001"}) { __typename } }'
        },
        headers=live_api.headers(),
    )

    assert refusal(response) == (405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "POST"


async def test_a_batch_is_refused_as_json(live_api):
    batch = json.dumps([{"query": "{ viewer { subject } }"}] * 2)

    response = await post_raw(live_api, batch)

    assert refusal(response) == (400, "BATCHING_NOT_SUPPORTED")
