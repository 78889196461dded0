"""gateway.yaml's `approvals` section: thresholds, SLA and the escalation level."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from apgraph.policies.loader import ConfigError, load_gateway_config

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_policy_asks_two_approvers_above_25000_and_escalates_after_48_hours():
    rules = load_gateway_config(ROOT / "tests" / "gateway.yaml").approvals.rules()
    assert rules.approvals_needed(Decimal("25000.00")) == 1
    assert rules.approvals_needed(Decimal("25000.01")) == 2
    assert rules.escalate_after == timedelta(hours=48)
    assert len(rules.escalation_approvers) >= 2


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("two_approvers_above", 25000.0, "quote decimals"),
        ("escalate_above", "-1", "greater than or equal to 0"),
        ("escalate_after_hours", 0, "greater than or equal to 1"),
        ("escalation_approvers", ["finance.admin"], "at least 2"),
        ("escalation_approvers", ["finance.admin", "finance.admin"], "each approver once"),
        ("escalation_approvers", ["finance.admin", " "], "blank"),
        ("submitter_may_approve", True, "Extra inputs"),
    ],
)
def test_a_mistake_in_the_approvals_section_stops_the_server_with_its_place(
    tmp_path, key, value, complaint
):
    config = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text())
    config["approvals"][key] = value
    (tmp_path / "gateway.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as refused:
        load_gateway_config(tmp_path / "gateway.yaml")
    assert "approvals" in str(refused.value)
    assert complaint in str(refused.value)


def test_the_section_is_required(tmp_path):
    config = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text())
    del config["approvals"]
    (tmp_path / "gateway.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match="approvals: Field required"):
        load_gateway_config(tmp_path / "gateway.yaml")
