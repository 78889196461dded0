"""Settings from the environment (`APGRAPH_*`): the only module that reads it."""

import json
import os
from importlib import resources
from pathlib import Path
from typing import Literal

from limits import parse_many
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """One per user, whichever directory a command runs in: the server and every CLI command
    agree on it ($XDG_DATA_HOME/apgraph, else ~/.local/share/apgraph)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "apgraph"


def shipped_gateway_config() -> Path:
    """The gateway.yaml shipped in the package: it works on the demo and on an empty database."""
    return Path(str(resources.files("apgraph.policies").joinpath("gateway.yaml")))


def default_gateway_config() -> Path:
    """./gateway.yaml when there is one (`apgraph init` writes it), else the shipped one."""
    local = Path("gateway.yaml")
    return local if local.is_file() else shipped_gateway_config()


class Settings(BaseSettings):
    """With nothing set, apgraph runs embedded: SQLite in `data_dir`, demo data, GraphiQL."""

    model_config = SettingsConfigDict(env_prefix="APGRAPH_", extra="ignore")

    environment: Literal["dev", "production"] = Field(
        default="dev",
        description="dev serves GraphiQL and unmasked error details; production does not",
    )
    log_format: Literal["json", "text"] | None = Field(
        default=None,
        description="json: one JSON object per log line, with the trace id; text: for a "
        "terminal; default json in production, text in dev",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir, description="embedded mode's files (keys, SQLite)"
    )
    database_url: str | None = Field(
        default=None, description="e.g. postgresql+asyncpg://user@host/db; default: SQLite"
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema to use (isolates test and bench runs)"
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=500,
        description="PostgreSQL connections each server process keeps open (as many more are "
        "opened under a burst, and closed when it passes): a query's reads that run at once "
        "share one, a mutation's reads and units of work take one each, so a smaller pool "
        "opens and closes connections under load",
    )
    gateway_config: Path = Field(
        default_factory=default_gateway_config,
        description="./gateway.yaml when there is one, else the one shipped in the package",
    )
    policy_file: Path | None = Field(
        default=None,
        description="a matching policy (a bundle's `policy`, or the section alone, JSON or "
        "YAML) that replaces gateway.yaml's `matching` section",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    seed_demo_data: bool = Field(
        default=True, description="seed demo data into an empty database on start"
    )
    demo_scale: float = Field(default=1.0, gt=0, le=20, description="size of the demo network")
    auth_mode: Literal["embedded", "oidc"] = Field(
        default="embedded",
        description="embedded: this server issues and verifies its own tokens; "
        "oidc: tokens come from an external OpenID Connect issuer",
    )
    token_issuer: str = Field(default="apgraph-embedded", description="`iss` of tokens we issue")
    token_audience: str = Field(default="apgraph", description="the `aud` every token must carry")
    token_lifetime_seconds: int = Field(default=900, ge=60, le=86400)
    token_leeway_seconds: int = Field(default=30, ge=0, le=300, description="clock skew allowed")
    token_algorithms: tuple[str, ...] = Field(default=("RS256", "ES256"))
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_roles_claim: str = "roles"
    oidc_scope_claim: str = "scope"
    oidc_supplier_claim: str = "supplier_id"
    oidc_facilities_claim: str = "facility_ids"
    oidc_client_claim: str = "client_id"
    max_request_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=100 * 1024 * 1024,
        description="largest GraphQL request body (JSON); only importMasterData's multipart "
        "upload may be larger, up to max_upload_bytes (a larger body: 413)",
    )
    token_throttle_per_client: str = Field(
        default="5/minute;10/10 minutes;20/hour",
        description="failed secrets allowed per client id and source address (limits notation, "
        "a ladder of windows: each exhausted one means a longer wait)",
    )
    token_throttle_per_source: str = Field(
        default="20/minute;100/hour",
        description="failed secrets allowed per source address across all client ids",
    )
    token_throttle_overall: str = Field(
        default="10/second;200/minute",
        description="failed secrets allowed overall; past it, an address that failed is "
        "refused at its next attempt (an address that did not fail never is)",
    )
    token_refusal_burst_seconds: float = Field(
        default=2.0,
        gt=0,
        le=300,
        description="refused token requests with this little time between them are audited "
        "as one entry with a count",
    )
    max_upload_bytes: int = Field(
        default=100 * 1024 * 1024,
        ge=1024,
        le=2 * 1024 * 1024 * 1024,
        description="largest master-data bundle importMasterData accepts (a larger body: 413)",
    )
    websocket_recheck_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="how often an open WebSocket re-checks its token (client revoked, key "
        "withdrawn); expiry closes it at the token's exp whatever this is",
    )
    websocket_compression: bool = Field(
        default=False,
        description="negotiate permessage-deflate on WebSockets. Off: an event message is a "
        "few hundred bytes, and a compressor per socket costs tens of KiB and CPU on every "
        "message sent to every subscriber",
    )
    import_max_inflated_bytes: int = Field(
        default=200 * 1024 * 1024,
        ge=1024,
        description="importMasterData: a zip's CSV files together, once inflated (more: "
        "TOO_LARGE, checked while inflating)",
    )
    import_max_rows: int = Field(
        default=250_000,
        ge=1,
        description="importMasterData: entity rows in one bundle (more: TOO_LARGE, and no row "
        "past the limit is read)",
    )
    import_listed_problems: int = Field(
        default=1_000,
        ge=1,
        le=100_000,
        description="importMasterData: problems listed in the report; problemCounts counts all",
    )
    relay_interval_seconds: float = Field(
        default=1.0, ge=0, le=3600, description="outbox relay idle interval; 0 turns it off"
    )
    webhook_interval_seconds: float = Field(
        default=1.0,
        ge=0,
        le=3600,
        description="how often due webhook deliveries (retries) are looked for; new ones go "
        "at once; 0 turns partner webhooks off in this process",
    )
    rematch_interval_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="how often invoices left VALIDATED are matched again; 0 turns it off",
    )
    posting_recovery_interval_seconds: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="how often postings a crash interrupted (invoices left MATCHED) are looked "
        "up in their ERP and completed or posted; also once at start; 0 turns it off",
    )
    posting_recovery_grace_seconds: float = Field(
        default=120.0,
        ge=0,
        le=86400,
        description="an invoice MATCHED this long is taken as interrupted: longer than any "
        "posting attempt lasts (connectors' deadline), so none still under way is disturbed",
    )
    escalation_interval_seconds: float = Field(
        default=300.0,
        ge=0,
        le=86400,
        description="how often exceptions past the approvals SLA are escalated; 0 turns it off",
    )
    scheduling_interval_seconds: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="how often POSTED invoices are scheduled for payment; 0 turns it off",
    )
    redis_url: str | None = Field(
        default=None,
        description="e.g. redis://127.0.0.1:6379: rate-limit budgets shared by every instance; "
        "unset: kept in this process's memory",
    )
    redis_key_prefix: str = Field(
        default="apgraph", min_length=1, description="prefix of every key apgraph sets in Redis"
    )
    bus_url: str | None = Field(
        default=None,
        description="NATS JetStream, e.g. nats://127.0.0.1:4222; unset: the in-process bus. "
        "Set and unreachable: the server refuses to start",
    )
    bus_stream_prefix: str = Field(
        default="APGRAPH",
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="names the JetStream streams (<prefix>_INVOICE, <prefix>_PAYMENT) and "
        "consumers, so several deployments (or test runs) can share one NATS",
    )
    subscription_queue_size: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="events held for one subscriber; one more and its connection is closed "
        "(WebSocket close code 4413) to resume from its cursor",
    )
    subscription_resume_window: int = Field(
        default=100_000,
        ge=0,
        description="how many events back an `after` cursor may resume from",
    )
    expose_sql_statements: bool = Field(
        default=False,
        description="report the SQL statement count of each operation in `extensions`",
    )
    fast_reads: bool = Field(
        default=True,
        description="answer queries over the invoice graph through the planned fast path "
        "(same data, errors and governance as the generic executor, a fraction of the CPU); "
        "false: every operation through the generic executor",
    )
    tracing: Literal["on", "off"] = Field(
        default="on",
        description="on: OpenTelemetry trace context for every request, SQL statement and "
        "connector call, exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (else "
        "sampled off: trace ids only, nothing recorded); off: no instrumentation at all",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "otel_exporter_otlp_endpoint",
            "APGRAPH_OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        ),
        description="the standard OpenTelemetry variable (no APGRAPH_ prefix): set, spans are "
        "exported over OTLP/HTTP, configured by the other OTEL_* variables",
    )
    cloud_erp_client_secret: str | None = Field(
        default=None,
        repr=False,
        description="OAuth2 client secret for the cloud ERP (connectors.mode remote); "
        "simulated mode makes up one per start when unset",
    )

    key_encryption_key: str | None = Field(
        default=None,
        repr=False,
        description="base64 of the 32-byte key-encryption key that wraps the data keys "
        "(production); unset: the key file in `data_dir` (embedded mode)",
    )
    reseal_interval_seconds: float = Field(
        default=60.0,
        ge=0,
        le=86400,
        description="how often rows still under a retired data key are moved to the active "
        "one; 0 turns it off",
    )

    retention_interval_seconds: float = Field(
        default=3600.0,
        ge=0,
        le=7 * 86400,
        description="how often gateway.yaml's `retention` is applied (purge in bounded "
        "batches); 0 turns it off (then run `apgraph retention run`)",
    )

    def as_environment(self) -> dict[str, str]:
        """These settings as APGRAPH_* variables, for worker processes that rebuild them."""
        return {
            f"APGRAPH_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
            for name, value in self.model_dump(mode="json").items()
            if value is not None
        }

    @property
    def dev(self) -> bool:
        return self.environment == "dev"

    @property
    def effective_log_format(self) -> Literal["json", "text"]:
        if self.log_format is not None:
            return self.log_format
        return "text" if self.dev else "json"

    @property
    def signing_keys_file(self) -> Path:
        return self.data_dir / "signing-keys.json"

    @field_validator(
        "token_throttle_per_client", "token_throttle_per_source", "token_throttle_overall"
    )
    @classmethod
    def _rate_limits(cls, value: str) -> str:
        if not parse_many(value):  # raises ValueError on text it cannot read
            raise ValueError(f"no rate limit in {value!r}")
        return value

    @property
    def key_encryption_key_file(self) -> Path:
        return self.data_dir / "key-encryption-key"

    @model_validator(mode="after")
    def _oidc_complete(self) -> "Settings":
        if self.auth_mode == "oidc":
            missing = [
                f"APGRAPH_{name.upper()}"
                for name in ("oidc_issuer", "oidc_audience", "oidc_jwks_url")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"APGRAPH_AUTH_MODE=oidc needs {', '.join(missing)}")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'apgraph.db').resolve()}"
