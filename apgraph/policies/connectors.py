"""The `connectors` section of gateway.yaml: where each external system is, and how patient to be.

Timeouts and back-off are seconds. Secrets never appear here: the cloud ERP's client secret
comes from APGRAPH_CLOUD_ERP_CLIENT_SECRET.
"""

from enum import Enum

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EndpointMode(Enum):
    SIMULATED = "simulated"  # the shipped simulators, inside the server process (demo, dev)
    REMOTE = "remote"  # every system at its base_url


class Resilience(_Section):
    """One policy for every call (DESIGN §6): timeouts, bounded retries, a breaker."""

    connect_timeout: float = Field(gt=0, le=60)
    read_timeout: float = Field(gt=0, le=300)
    attempts: int = Field(ge=1, le=10, description="tries per call, the first one included")
    backoff_initial: float = Field(ge=0, le=60, description="first wait; doubles per retry")
    backoff_max: float = Field(ge=0, le=300)
    retry_after_max: float = Field(
        ge=0, le=300, description="longest Retry-After honoured; a longer one fails the call now"
    )
    breaker_failures: int = Field(ge=1, le=1000, description="consecutive failures that open it")
    breaker_cooldown: float = Field(gt=0, le=3600, description="open this long, then one trial")

    @model_validator(mode="after")
    def _backoff_bounds(self) -> "Resilience":
        if self.backoff_max < self.backoff_initial:
            raise ValueError("backoff_max must be at least backoff_initial")
        return self


class Endpoint(_Section):
    base_url: AnyHttpUrl


class CloudErpEndpoint(Endpoint):
    token_url: AnyHttpUrl
    client_id: str = Field(min_length=1)


class AnalyticsEndpoint(Endpoint):
    batch_size: int = Field(ge=1, le=10_000, description="forecast records per webhook call")


class ConnectorsConfig(_Section):
    mode: EndpointMode
    resilience: Resilience
    legacy_erp: Endpoint
    cloud_erp: CloudErpEndpoint
    materials: Endpoint
    sourcing: Endpoint
    analytics: AnalyticsEndpoint
