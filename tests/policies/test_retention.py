"""gateway.yaml's `retention`: kinds and periods; below the legal minimum is refused."""

import pytest
import yaml

from apgraph.gateway.refusal import StartupError
from apgraph.gateway.startup import load_config
from apgraph.policies.loader import ConfigError, load_gateway_config
from apgraph.settings import Settings
from tests.conftest import ROOT


def with_retention(tmp_path, retention) -> Settings:
    raw = yaml.safe_load((ROOT / "gateway.yaml").read_text())
    raw["retention"] = retention
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(raw))
    return Settings(gateway_config=path, data_dir=tmp_path)


def test_an_audit_trail_kept_less_than_seven_years_is_refused_in_one_line(tmp_path):
    settings = with_retention(tmp_path, {"kinds": {"audit_trail": {"days": 365}}})

    with pytest.raises(ConfigError) as refused:
        load_gateway_config(settings.gateway_config)

    assert str(refused.value) == (
        f"{settings.gateway_config}: retention: Value error, audit_trail: 365 days is below "
        "the legal minimum of 2557 days (7 years) for financial records"
    )


def test_an_unknown_kind_stops_the_start(tmp_path):
    settings = with_retention(tmp_path, {"kinds": {"audit_trial": {"days": 3000}}})

    with pytest.raises(StartupError) as refused:
        load_config(settings)

    assert str(refused.value).startswith(
        "gateway.yaml: retention.kinds: unknown kind(s) audit_trial (known: attachments, "
    )


def test_the_shipped_policy_keeps_financial_records_seven_years():
    retention = load_gateway_config(ROOT / "gateway.yaml").retention

    assert retention.kinds["audit_trail"].days >= 2557
