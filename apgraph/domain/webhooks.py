"""Partner webhooks, pure: what a subscription is, which addresses a delivery may reach,
when a failed delivery is tried again, and which events a partner may receive."""

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from urllib.parse import SplitResult, urlsplit

from apgraph.domain import feeds
from apgraph.domain.clients import Client
from apgraph.domain.codes import ProblemCode
from apgraph.domain.ids import FacilityId
from apgraph.domain.principal import RowScope
from apgraph.domain.problems import Problem

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

WEBHOOK_ID = re.compile(r"WHK-[0-9a-f]{16}")
SECRET_PREFIX = "whsec_"  # Standard Webhooks' secret form: whsec_<base64 of the key>
MAX_URL_LENGTH = 2000
MAX_EVENT_TYPES = 50
SCHEMES = frozenset({"http", "https"})


class DeliveryStatus(Enum):
    PENDING = "PENDING"
    """Waiting for its next attempt."""
    DELIVERED = "DELIVERED"
    """The receiver answered 2xx: never sent again."""
    DEAD = "DEAD"
    """Every attempt failed: in the dead-letter store until an operator replays it."""


@dataclass(frozen=True, slots=True)
class Webhook:
    id: str
    client_id: str  # the partner client that owns it: only that client sees or removes it
    url: str
    event_types: frozenset[str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Registered:
    """A new webhook with its signing secret: the only time the secret is shown."""

    webhook: Webhook
    secret: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one webhook. Its id is the `webhook-id` header: the same on every attempt
    and replay, so a receiver that saw it once can drop the repeat."""

    id: str
    event_id: str
    webhook_id: str
    url: str
    body: bytes  # the CloudEvent exactly as signed and sent on every attempt
    attempts: int  # made so far
    status: DeliveryStatus


def delivery_id(event_id: str, webhook_id: str) -> str:
    return f"msg_{event_id}_{webhook_id}"


def is_webhook_id(raw: str) -> bool:
    return WEBHOOK_ID.fullmatch(raw) is not None


# --- where a delivery may go ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """gateway.yaml's `webhooks` section. By default only loopback receivers are reached."""

    allowed_hosts: frozenset[str] = frozenset()  # also reachable: these hosts' public addresses
    allow_private_networks: bool = False  # also reachable: RFC 1918, ULA and CGNAT addresses

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(
            host == allowed or (allowed.startswith("*.") and host.endswith(allowed[1:]))
            for allowed in self.allowed_hosts
        )


@dataclass(frozen=True, slots=True)
class Target:
    """A URL that passed the checks that need no DNS: what to resolve, and where to connect."""

    url: str
    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int


def refused(reason: str) -> Problem:
    return Problem(ProblemCode.WEBHOOK_URL_REFUSED, reason)


def parse_target(url: str) -> Target | Problem:
    """The URL's scheme, credentials and shape; its addresses are checked once resolved."""
    if len(url) > MAX_URL_LENGTH:
        return refused(f"a URL of at most {MAX_URL_LENGTH} characters")
    try:
        parts: SplitResult = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        return refused(f"not a URL: {error}")
    if parts.scheme.lower() not in SCHEMES:
        return refused("only http and https URLs receive webhooks")
    if parts.username is not None or parts.password is not None:
        return refused("a URL with credentials in it is refused: the signature authenticates")
    if not parts.hostname:
        return refused("the URL names no host")
    scheme = parts.scheme.lower()
    return Target(
        url=url.strip(),
        scheme=scheme,
        host=parts.hostname.lower().rstrip("."),
        port=port or (443 if scheme == "https" else 80),
    )


def literal_address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def address_refusal(target: Target, address: IpAddress, policy: TargetPolicy) -> str | None:
    """Why a delivery may not connect to `address` (resolved from the target's host), or None.

    Loopback is always reachable (receivers on the same machine). Link-local (cloud metadata
    at 169.254.169.254), multicast, unspecified and reserved addresses never are. Private
    ranges need `allow_private_networks`; public addresses need the host in `allowed_hosts`.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return None
    if (
        address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    ):
        return f"{target.host} resolves to {address}, a link-local, multicast or reserved address"
    shared = isinstance(address, ipaddress.IPv4Address) and address in _SHARED
    if address.is_private or shared:
        if policy.allow_private_networks:
            return None
        return f"{target.host} resolves to {address}, a private address"
    if policy.host_allowed(target.host):
        return None
    return f"{target.host} is not a host webhooks may reach (gateway.yaml webhooks.allowed_hosts)"


_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT: private in practice


def first_allowed(
    target: Target, addresses: Iterable[IpAddress], policy: TargetPolicy
) -> IpAddress | Problem:
    """The address to connect to: every address the host resolves to must pass, so a name that
    answers one public and one private address is refused whichever a connection would pick."""
    found = list(addresses)
    if not found:
        return refused(f"{target.host} does not resolve")
    for address in found:
        reason = address_refusal(target, address, policy)
        if reason is not None:
            return refused(reason)
    return found[0]


# --- when to try again ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int  # the first one included; after the last failure the delivery is dead
    initial: timedelta
    maximum: timedelta

    def delay_after(self, attempts: int, jitter: float) -> timedelta:
        """Exponential from `initial`, capped at `maximum`, then jittered into its upper half
        (`jitter` in [0, 1)): receivers that failed together are not retried together."""
        doubling: int = 2 ** max(attempts - 1, 0)
        base = min(self.initial * doubling, self.maximum)
        return base * (0.5 + jitter / 2)


# --- what a partner may receive ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadRules:
    """What the subscriptions require, from gateway.yaml's `access`: the scope that reads each
    feed (the types InvoiceStatusChange and PaymentStatusChange) and the scopes a partner may
    hold at all (a client registered with more is narrowed, as its tokens are)."""

    invoice_scope: str | None
    payment_scope: str | None
    partner_scopes: frozenset[str]

    def scope_to_read(self, event_type: str) -> str | None:
        """None: no feed carries this type, so no partner receives it."""
        if feeds.is_invoice_event(event_type):
            return self.invoice_scope
        if feeds.is_payment_event(event_type):
            return self.payment_scope
        return None

    def may_read(self, client: Client, event_type: str) -> bool:
        needed = self.scope_to_read(event_type)
        return needed is not None and needed in client.scopes & self.partner_scopes

    def may_receive(
        self, client: Client, *, event_type: str, supplier_id: str, facility_id: str
    ) -> bool:
        """The subscriptions' rule, checked on every event: an active client holding the scope
        that reads the event's feed, whose facilities include the event's."""
        if not client.active or not self.may_read(client, event_type):
            return False
        scope = RowScope(facility_ids=frozenset(FacilityId(f) for f in client.facility_ids))
        return scope.admits(supplier_id=supplier_id, facility_id=facility_id)
