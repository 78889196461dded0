"""A partner system registered to call the API with the client-credentials grant."""

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    name: str
    secret_hash: str  # never the secret itself
    scopes: frozenset[str]
    product: str  # the API product it was registered for, e.g. partner-procurement
    facility_ids: frozenset[str]  # the only facilities whose data it sees
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None
