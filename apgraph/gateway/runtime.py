"""What a running server holds for its whole life: settings, gateway.yaml, the engine,
and the identity machinery built from them (the composition root's long-lived half).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property

import httpx
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.configuration import ConfigurationStart, fingerprint
from apgraph.domain.principal import Role, RowScope
from apgraph.domain.webhooks import ReadRules
from apgraph.events.webhooks import resolve_host
from apgraph.gateway.auth import Authenticator, ClaimNames
from apgraph.gateway.configuration import effective_configuration, started_by
from apgraph.gateway.connectors import Connectors, build_connectors
from apgraph.gateway.key_encryption import keyring
from apgraph.gateway.live import Live
from apgraph.gateway.products.rate_limits import RateLimits
from apgraph.gateway.products.usage import UsageMeter
from apgraph.gateway.refusals import RefusalLog
from apgraph.gateway.token_throttle import TokenThrottle
from apgraph.gateway.tokens import LocalKeys, RemoteJwks, TokenIssuer, TokenVerifier
from apgraph.gateway.websocket_session import Rechecks
from apgraph.gateway.worker_process import WorkerProcess
from apgraph.observability import tracing
from apgraph.policies.gateway import GatewayConfig
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.master_data import Onboarding
from apgraph.services.ports.reads import PageLimits
from apgraph.services.ports.webhooks import WebhookDeps
from apgraph.services.ports.workflow import WorkflowPolicy
from apgraph.settings import Settings
from apgraph.store.audit import AuditRepository
from apgraph.store.clients import ClientRepository
from apgraph.store.database import create_engine
from apgraph.store.keyring import Keyring
from apgraph.store.master_data_io import SqlMasterData
from apgraph.store.read_store import ReadStore
from apgraph.store.webhooks import SqlWebhooks


class SystemClock:
    """The ports' Clock on the machine's time; tests pass their own."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    config: GatewayConfig
    engine: AsyncEngine
    authenticator: Authenticator
    issuer: TokenIssuer | None  # the embedded issuer; None when an external one is trusted
    http: httpx.AsyncClient
    connectors: Connectors
    keyring: Keyring  # opens and seals classified columns (gateway/key_encryption.py)
    clock: Clock = field(default_factory=SystemClock)
    rate_limits: RateLimits = field(default_factory=RateLimits.in_memory)
    usage: UsageMeter = field(default_factory=UsageMeter)
    worker: WorkerProcess = field(default_factory=WorkerProcess)  # importMasterData's reading
    live: Live = field(default_factory=Live)  # the bus and hub, once the lifespan started them
    tracer_provider: TracerProvider | None = None  # None: tracing off
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def page_limits(self) -> PageLimits:
        limits = self.config.limits
        return PageLimits(default_size=limits.default_page_size, max_size=limits.max_page_size)

    @cached_property
    def workflow_policy(self) -> WorkflowPolicy:
        """gateway.yaml's matching, approval and payment rules, built once: every request's
        context carries them, and building the tolerances, invoice-number rules and approval
        and payment rules per request was about a hundredth of a portal page's CPU (issue 19)."""
        config = self.config
        return WorkflowPolicy(
            match_rules=config.matching.rules(),
            duplicate_window_days=config.matching.duplicate_window_days,
            approvals=config.approvals.rules(),
            payments=config.payments.rules(),
            review=config.matching.review(),
        )

    @cached_property
    def rechecks(self) -> Rechecks:
        """The periodic re-checks of every open WebSocket and SSE stream, one per token."""
        return Rechecks(self.authenticator, fresh_for=self.settings.websocket_recheck_seconds / 2)

    @cached_property
    def onboarding(self) -> Onboarding:
        """What importMasterData hands the onboarding service; built once, not per request."""
        return Onboarding(
            store=SqlMasterData(self.engine, self.keyring),
            sinks=self.connectors.master_data_sinks,
            max_upload_bytes=self.settings.max_upload_bytes,
            max_inflated_bytes=self.settings.import_max_inflated_bytes,
            max_rows=self.settings.import_max_rows,
            listed_problems=self.settings.import_listed_problems,
            isolated=self.worker,
        )

    @cached_property
    def webhooks(self) -> WebhookDeps:
        """What the webhook commands need; the store seals secrets with the data keys."""
        policy = self.config.webhooks
        return WebhookDeps(
            registry=SqlWebhooks(self.engine, self.keyring),
            resolve=resolve_host,
            targets=policy.targets,
            rules=self.webhook_rules,
            max_per_client=policy.max_per_client,
            clock=self.clock,
        )

    @cached_property
    def webhook_rules(self) -> ReadRules:
        """The subscriptions' scopes (the change types' in `access.types`) for webhooks too."""
        access = self.config.access
        return ReadRules(
            invoice_scope=access.types.get("InvoiceStatusChange"),
            payment_scope=access.types.get("PaymentStatusChange"),
            partner_scopes=access.scopes_of(frozenset({Role.PARTNER})),
        )

    @cached_property
    def configuration(self) -> ConfigurationStart:
        """What this process runs with (computed once; the start recorded it in the history)."""
        document = effective_configuration(self.settings, self.config)
        return ConfigurationStart(
            started_at=self.started_at,
            started_by=started_by(),
            fingerprint=fingerprint(document),
            document=document,
        )

    @cached_property
    def token_throttle(self) -> TokenThrottle:
        """The token endpoint's budgets of failed secrets, for this process's life."""
        settings = self.settings
        return TokenThrottle(
            per_client_and_source=settings.token_throttle_per_client,
            per_source=settings.token_throttle_per_source,
            overall=settings.token_throttle_overall,
        )

    @cached_property
    def token_refusals(self) -> RefusalLog:
        """Refused token requests not yet audited (written by the app's background task)."""
        return RefusalLog(quiet=timedelta(seconds=self.settings.token_refusal_burst_seconds))

    @property
    def audit(self) -> AuditRepository:
        return AuditRepository(self.engine)

    @property
    def clients(self) -> ClientRepository:
        return ClientRepository(self.engine)

    @classmethod
    def open(
        cls,
        settings: Settings,
        config: GatewayConfig,
        *,
        clock: Clock | None = None,
        tracer_provider: TracerProvider | None = None,
    ) -> "Runtime":
        """`tracer_provider`: SQL statements and connector calls get spans."""
        engine = create_engine(
            settings.resolved_database_url,
            schema=settings.database_schema,
            pool_size=settings.database_pool_size,
        )
        if tracer_provider is not None and tracing.recording(tracer_provider):
            # sampled off, a span per statement would be made and dropped: skipped
            tracing.instrument_engine(engine, tracer_provider)
        http = httpx.AsyncClient(timeout=5.0)
        issuer = None
        if settings.auth_mode == "embedded":
            issuer = embedded_issuer(settings)
            verifier = TokenVerifier(
                keys=issuer.keys,
                issuer=settings.token_issuer,
                audience=settings.token_audience,
                algorithms=settings.token_algorithms,
                leeway=settings.token_leeway_seconds,
            )
            claim_names = ClaimNames()
            clients: ClientRepository | None = ClientRepository(engine)
        else:
            # Settings refuses oidc mode without these three, so they are set here.
            verifier = TokenVerifier(
                keys=RemoteJwks(settings.oidc_jwks_url or "", http),
                issuer=settings.oidc_issuer or "",
                audience=settings.oidc_audience or "",
                algorithms=settings.token_algorithms,
                leeway=settings.token_leeway_seconds,
            )
            claim_names = ClaimNames(
                roles=settings.oidc_roles_claim,
                scope=settings.oidc_scope_claim,
                supplier=settings.oidc_supplier_claim,
                facilities=settings.oidc_facilities_claim,
                client=settings.oidc_client_claim,
            )
            clients = None  # the external issuer owns its clients and their revocation
        authenticator = Authenticator(verifier, config.access, claim_names, clients)
        clock = clock or SystemClock()
        connectors = build_connectors(
            settings, config, engine, clock=clock, tracer_provider=tracer_provider
        )
        rate_limits = RateLimits.open(
            settings.redis_url, key_prefix=f"{settings.redis_key_prefix}:rate"
        )
        return cls(
            settings,
            config,
            engine,
            authenticator,
            issuer,
            http,
            connectors,
            keyring(settings, config, engine),
            clock,
            rate_limits=rate_limits,
            tracer_provider=tracer_provider,
        )

    def reads(self, scope: RowScope) -> ReadStore:
        """The repositories a request (or a background job, unscoped) reads through."""
        return ReadStore.scoped(self.engine, scope, self.keyring)

    async def close(self) -> None:
        self.worker.close()
        if self.live.close_bus is not None:
            await self.live.close_bus()
        await self.connectors.aclose()
        await self.http.aclose()
        await self.engine.dispose()


def embedded_issuer(settings: Settings) -> TokenIssuer:
    return TokenIssuer(
        keys=LocalKeys(settings.signing_keys_file),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        lifetime=timedelta(seconds=settings.token_lifetime_seconds),
    )
