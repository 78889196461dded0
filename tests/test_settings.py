"""Settings: the environment is read in one place, and workers rebuild the same settings."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from apgraph.settings import Settings


def test_worker_processes_rebuild_exactly_the_parents_settings(monkeypatch):
    parent = Settings(
        database_url="postgresql+asyncpg://postgres@127.0.0.1/x",
        data_dir=Path("/tmp/somewhere"),
        token_algorithms=("RS256",),
        expose_sql_statements=True,
    )
    for name, value in parent.as_environment().items():
        monkeypatch.setenv(name, value)
    assert Settings() == parent


def test_oidc_mode_names_every_missing_setting():
    with pytest.raises(ValidationError, match="APGRAPH_OIDC_ISSUER, APGRAPH_OIDC_AUDIENCE"):
        Settings(auth_mode="oidc")
