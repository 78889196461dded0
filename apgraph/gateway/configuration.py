"""The effective configuration of this server, as a document with no secret in it: what each
start records (and `apgraph config history` compares) and what the `configuration` query
shows operators.

In it: gateway.yaml (the file's hash and the validated content), the policy file's hash,
the hash of every frozen contract, and every setting. Secrets are never in it: a secret
setting shows only whether it is set, and URLs lose their passwords.
"""

import getpass
import hashlib
import socket
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

import apgraph
from apgraph.domain.configuration import REDACTED
from apgraph.policies.gateway import GatewayConfig
from apgraph.settings import Settings

CONTRACTS = Path("contracts")  # where `apgraph contracts export` freezes them, as it runs
SECRET_SETTINGS = frozenset({"key_encryption_key", "cloud_erp_client_secret"})
URL_SETTINGS = frozenset({"database_url", "redis_url", "oidc_jwks_url"})


def _file_hash(path: Path | None) -> str | None:
    if path is None or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return REDACTED  # not a URL we can take apart: better shown as nothing than leaked


def _settings(settings: Settings) -> dict[str, Any]:
    shown: dict[str, Any] = settings.model_dump(mode="json")
    for name in SECRET_SETTINGS:
        shown[name] = REDACTED if shown.get(name) else None
    for name in URL_SETTINGS:
        if shown.get(name):
            shown[name] = _without_password(shown[name])
    return shown


def contract_hashes(root: Path) -> dict[str, str]:
    """Every frozen contract (contracts/**/*.graphql) by path, with its SHA-256; none when
    the server runs away from its source tree (the contracts are then not in play)."""
    if not root.is_dir():
        return {}
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*.graphql"))
    }


def effective_configuration(settings: Settings, config: GatewayConfig) -> dict[str, Any]:
    return {
        "version": apgraph.__version__,
        "gateway_yaml": {
            "path": str(settings.gateway_config),
            "sha256": _file_hash(settings.gateway_config),
            "effective": config.model_dump(mode="json", by_alias=True),
        },
        "policy_file": (
            {"path": str(settings.policy_file), "sha256": _file_hash(settings.policy_file)}
            if settings.policy_file
            else None
        ),
        "contracts": contract_hashes(CONTRACTS),
        "settings": _settings(settings),
    }


def started_by() -> str:
    """Who started the server, as the audit trail names them: the OS user on this host."""
    return f"{getpass.getuser()}@{socket.gethostname()}"
