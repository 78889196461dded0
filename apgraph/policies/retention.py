"""The `retention` section of gateway.yaml: how long each kind of record is kept.

A kind is a name the store knows how to purge (store/retention.py lists them); a new kind is
one entry there and one line here. Records of an invoice or supplier under legal hold are
never purged, whatever their age. Financial records have a legal minimum: a policy below it
is refused at start, so a typo can never shorten what the law says to keep.
"""

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

DAYS_PER_YEAR = 365.25
# Kinds that are financial records (or the trail of them): at least 7 years, as US tax and
# audit rules ask of accounts payable. Expressed in days, leap days included.
LEGAL_MINIMUM_DAYS = {
    "audit_trail": 2557,
    "status_history": 2557,
    "attachments": 2557,
}


class KeepFor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    days: int = Field(ge=1, description="records older than this are purged")

    @property
    def period(self) -> timedelta:
        return timedelta(days=self.days)


class RetentionPolicy(BaseModel):
    """Kinds left out are kept forever: purging is always something the file asks for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kinds: dict[str, KeepFor] = Field(default_factory=dict)
    batch_size: int = Field(default=1000, ge=1, le=100_000, description="rows per transaction")

    @model_validator(mode="after")
    def _not_below_the_legal_minimum(self) -> "RetentionPolicy":
        for kind, keep in self.kinds.items():
            minimum = LEGAL_MINIMUM_DAYS.get(kind)
            if minimum is not None and keep.days < minimum:
                raise ValueError(
                    f"{kind}: {keep.days} days is below the legal minimum of {minimum} days "
                    f"({minimum / DAYS_PER_YEAR:.0f} years) for financial records"
                )
        return self
