"""The running server's effective configuration, for operators (secrets redacted)."""

import json
from typing import Self

import strawberry

from apgraph.domain.configuration import ConfigurationStart


@strawberry.type(
    name="Configuration",
    description="The configuration this server runs with: gateway.yaml as validated, the "
    "policy file's and the frozen contracts' hashes, and the settings. Never a secret: a "
    'secret setting reads "(redacted)" when set, and URLs carry no password.',
)
class ConfigurationType:
    fingerprint: str = strawberry.field(
        description="SHA-256 of the document below: two servers with the same fingerprint run "
        "the same configuration. `apgraph config history` lists each start's fingerprint."
    )
    document: str = strawberry.field(
        description="The configuration as a JSON object (sections: version, gateway_yaml, "
        "policy_file, contracts, settings)."
    )
    version: str = strawberry.field(description="The apgraph version running.")

    @classmethod
    def from_domain(cls, start: ConfigurationStart) -> Self:
        return cls(
            fingerprint=start.fingerprint,
            document=json.dumps(start.document, sort_keys=True),
            version=str(start.document.get("version", "")),
        )
