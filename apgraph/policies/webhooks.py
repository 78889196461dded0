"""The `webhooks` section of gateway.yaml: where partner webhooks may deliver, and how often a
failed delivery is tried again. Left out, only loopback receivers are reachable."""

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from apgraph.domain.webhooks import RetryPolicy, TargetPolicy


class WebhooksPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    allowed_hosts: frozenset[str] = Field(
        default=frozenset(),
        description="hosts (or *.domain) whose public addresses deliveries may reach",
    )
    allow_private_networks: bool = Field(
        default=False, description="RFC 1918, ULA and CGNAT addresses too; never link-local"
    )
    attempts: int = Field(default=8, ge=1, le=50, description="the first one included")
    backoff_initial: float = Field(default=5.0, gt=0, description="seconds; doubles per retry")
    backoff_max: float = Field(default=3600.0, gt=0, description="seconds; jittered below it")
    timeout: float = Field(default=10.0, gt=0, le=60, description="seconds per attempt")
    max_per_client: int = Field(default=20, ge=1, le=1000)

    @model_validator(mode="after")
    def _backoff_ordered(self) -> "WebhooksPolicy":
        if self.backoff_max < self.backoff_initial:
            raise ValueError("backoff_max is below backoff_initial")
        return self

    @property
    def targets(self) -> TargetPolicy:
        return TargetPolicy(
            allowed_hosts=frozenset(host.lower().rstrip(".") for host in self.allowed_hosts),
            allow_private_networks=self.allow_private_networks,
        )

    @property
    def retries(self) -> RetryPolicy:
        return RetryPolicy(
            attempts=self.attempts,
            initial=timedelta(seconds=self.backoff_initial),
            maximum=timedelta(seconds=self.backoff_max),
        )
