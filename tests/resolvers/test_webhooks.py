"""registerWebhook, webhooks, removeWebhook through the partner product: a partner manages
its own webhooks only, gets the secret once, and cannot point one at a private address."""

import json

import pytest

from tests.conftest import ROOT
from tests.gateway.partners import PARTNER_SCOPES, register, token_for

PARTNER = "partner-procurement/v1"
LISTED = json.loads(
    (ROOT / "apgraph" / "policies" / "operations" / "partner-procurement.json").read_text()
)
REGISTER = next(text for text in LISTED.values() if "mutation RegisterWebhook" in text)
LIST = next(text for text in LISTED.values() if "query Webhooks" in text)
REMOVE = next(text for text in LISTED.values() if "mutation RemoveWebhook" in text)
WEBHOOK_SCOPES = PARTNER_SCOPES | {"webhooks:manage"}
RECEIVER = "http://127.0.0.1:9/hooks"


@pytest.fixture(scope="module")
async def partner(api):
    client = await register(api, facilities=["FAC-0001"], scopes=WEBHOOK_SCOPES)
    return token_for(api, client)


async def register_webhook(api, token, url=RECEIVER, event_types=("invoice.posted",)):
    return await api.graphql(
        REGISTER,
        {"input": {"url": url, "eventTypes": list(event_types)}},
        token=token,
        product=PARTNER,
    )


async def test_a_partner_registers_a_webhook_and_sees_its_secret_once(api, partner):
    # when a partner registers a webhook
    body = await register_webhook(api, partner, event_types=["invoice.posted", "invoice.rejected"])

    # then it gets the webhook and a Standard Webhooks secret
    payload = body["data"]["registerWebhook"]
    assert payload["userErrors"] == []
    assert payload["secret"].startswith("whsec_")
    webhook = payload["webhook"]
    assert webhook["eventTypes"] == ["invoice.posted", "invoice.rejected"]
    # and the list shows it, without any secret to show
    listed = (await api.data(LIST, token=partner, product=PARTNER))["webhooks"]
    assert webhook in listed
    assert "secret" not in LIST


async def test_another_partner_neither_sees_nor_removes_a_webhook(api, partner):
    # given a webhook of one partner
    webhook = (await register_webhook(api, partner))["data"]["registerWebhook"]["webhook"]
    other = token_for(api, await register(api, facilities=["FAC-0001"], scopes=WEBHOOK_SCOPES))

    # when another partner lists and removes it
    listed = (await api.data(LIST, token=other, product=PARTNER))["webhooks"]
    removed = await api.data(REMOVE, {"id": webhook["id"]}, token=other, product=PARTNER)

    # then it sees none, and removing answers as for an unknown webhook
    assert listed == []
    assert removed["removeWebhook"]["removedWebhookId"] is None
    assert [e["code"] for e in removed["removeWebhook"]["userErrors"]] == ["WEBHOOK_NOT_FOUND"]
    # and the owner still has it
    assert webhook in (await api.data(LIST, token=partner, product=PARTNER))["webhooks"]


async def test_the_owner_removes_its_webhook(api, partner):
    webhook = (await register_webhook(api, partner))["data"]["registerWebhook"]["webhook"]

    removed = await api.data(REMOVE, {"id": webhook["id"]}, token=partner, product=PARTNER)

    assert removed["removeWebhook"] == {"removedWebhookId": webhook["id"], "userErrors": []}
    assert webhook not in (await api.data(LIST, token=partner, product=PARTNER))["webhooks"]


async def test_registering_without_the_scope_is_forbidden(api):
    # given a partner client registered without webhooks:manage
    token = token_for(api, await register(api, facilities=["FAC-0001"]))

    # when it registers a webhook
    body = await register_webhook(api, token)

    # then it is refused before anything is written
    assert body["data"] is None or body["data"]["registerWebhook"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert (await api.graphql(LIST, token=token, product=PARTNER))["errors"][0]["extensions"][
        "code"
    ] == "FORBIDDEN"


async def test_a_person_owns_no_webhooks(api):
    # a finance admin holds every scope but is no partner client
    body = await api.graphql(
        REGISTER, {"input": {"url": RECEIVER, "eventTypes": ["invoice.posted"]}}
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.1.20:8080/hooks",
        "http://172.16.0.5/hooks",
        "http://[fd00::1]/hooks",
        "http://[::ffff:10.0.0.1]/hooks",
        "http://0.0.0.0/hooks",
        "http://224.0.0.1/hooks",
        "http://93.184.216.34/hooks",  # public, but no host is allowed beyond loopback
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "http://user:pass@127.0.0.1/hooks",
        "http://private.invalid/hooks",  # resolves to nothing
    ],
)
async def test_a_url_off_loopback_or_otherwise_unsafe_is_refused(api, partner, url):
    body = await register_webhook(api, partner, url=url)

    payload = body["data"]["registerWebhook"]
    assert payload["webhook"] is None
    assert payload["secret"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("WEBHOOK_URL_REFUSED", ["input", "url"])
    ]


async def test_an_event_type_the_partner_cannot_read_is_refused(api, partner):
    body = await register_webhook(api, partner, event_types=["payment.released", "nope.nothing"])

    errors = body["data"]["registerWebhook"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("EVENT_TYPE_NOT_READABLE", ["input", "eventTypes", "0"]),
        ("EVENT_TYPE_UNKNOWN", ["input", "eventTypes", "1"]),
    ]


async def test_loopback_in_every_form_is_accepted(api, partner):
    for url in ["http://127.0.0.1:8080/a", "http://localhost:9/b", "http://[::1]:9/c"]:
        body = await register_webhook(api, partner, url=url)
        assert body["data"]["registerWebhook"]["userErrors"] == [], url
