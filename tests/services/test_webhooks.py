"""Where a webhook may deliver: every address its host resolves to is checked, so a name
that answers a private address is refused like the address itself."""

import ipaddress
from datetime import timedelta

import pytest

from apgraph.domain.codes import ProblemCode
from apgraph.domain.webhooks import RetryPolicy, TargetPolicy
from apgraph.services.webhooks import check_url


def resolver(*answers: str):
    async def resolve(host: str, port: int):
        return [ipaddress.ip_address(answer) for answer in answers]

    return resolve


@pytest.mark.parametrize(
    ("answers", "policy", "refused"),
    [
        (["127.0.0.1"], TargetPolicy(), False),
        (["::1"], TargetPolicy(), False),
        (["10.1.2.3"], TargetPolicy(), True),  # a name pointing at a private address
        (["127.0.0.1", "10.1.2.3"], TargetPolicy(), True),  # one bad answer is enough
        (["169.254.169.254"], TargetPolicy(allow_private_networks=True), True),
        (["10.1.2.3"], TargetPolicy(allow_private_networks=True), False),
        (["93.184.216.34"], TargetPolicy(), True),  # public, host not allowed
        (["93.184.216.34"], TargetPolicy(allowed_hosts=frozenset({"hooks.example"})), False),
        (["10.1.2.3"], TargetPolicy(allowed_hosts=frozenset({"hooks.example"})), True),
        ([], TargetPolicy(), True),  # resolves to nothing
    ],
)
async def test_a_host_is_checked_by_every_address_it_resolves_to(answers, policy, refused):
    problem = await check_url(
        "https://hooks.example/in", targets=policy, resolve=resolver(*answers)
    )
    assert (problem is not None) == refused
    if problem is not None:
        assert problem.code is ProblemCode.WEBHOOK_URL_REFUSED


def test_a_wildcard_allows_subdomains_only():
    policy = TargetPolicy(allowed_hosts=frozenset({"*.erp.example"}))
    assert policy.host_allowed("a.erp.example")
    assert not policy.host_allowed("erp.example.evil")
    assert not policy.host_allowed("evilerp.example")


def test_backoff_doubles_is_capped_and_jittered_into_its_upper_half():
    policy = RetryPolicy(attempts=5, initial=timedelta(seconds=2), maximum=timedelta(seconds=10))
    assert policy.delay_after(1, 0.0) == timedelta(seconds=1)
    assert policy.delay_after(1, 0.999) < timedelta(seconds=2)
    assert policy.delay_after(3, 0.0) == timedelta(seconds=4)
    assert policy.delay_after(9, 0.0) == timedelta(seconds=5)  # capped at 10, halved
