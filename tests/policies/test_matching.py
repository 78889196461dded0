"""gateway.yaml's `matching` section: tolerances per category, as data the domain can use."""

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from apgraph.domain.matching.rules import STRICT, SourcingDown
from apgraph.domain.matching.tolerance import Tolerance
from apgraph.domain.purchasing import Category
from apgraph.policies.loader import ConfigError, load_gateway_config
from apgraph.policies.matching import MatchingPolicy

ROOT = Path(__file__).resolve().parents[2]
PHARMACY_ONLY = {
    "duplicate_window_days": 7,
    "categories": {
        "PHARMACY": {
            "quantity_percent": "0",
            "quantity_absolute": "0",
            "price_percent": "0",
            "price_absolute": "0.00",
            "receipt_required": True,
            "contract_price_unavailable": "block",
        }
    },
}


def shipped() -> MatchingPolicy:
    return load_gateway_config(ROOT / "tests" / "gateway.yaml").matching


def test_the_shipped_policy_gives_pharmacy_no_quantity_tolerance_and_blocks_without_contracts():
    pharmacy = shipped().category_rules(Category.PHARMACY)
    assert pharmacy.quantity.allowance_on(Decimal("500")) == 0
    assert pharmacy.sourcing_down is SourcingDown.BLOCK
    assert pharmacy.receipt_required


def test_the_shipped_policy_lets_medical_supplies_vary_a_little():
    policy = shipped()
    assert policy.price_tolerance(Category.MEDICAL_SUPPLIES) == Tolerance(
        percent=Decimal("2"), absolute=Decimal("25.00")
    )
    assert policy.category_rules(Category.MEDICAL_SUPPLIES).sourcing_down is SourcingDown.FLAG
    assert policy.duplicate_window_days == 7


def test_every_category_needs_a_receipt_in_the_shipped_policy():
    # services confirm with a receipt too
    assert all(rules.receipt_required for rules in shipped().rules().values())


def test_a_category_the_file_does_not_list_is_matched_strictly():
    policy = MatchingPolicy.model_validate(PHARMACY_ONLY)
    assert policy.category_rules(Category.FACILITY_OPS) == STRICT
    assert policy.quantity_tolerance(Category.BIOMED_SERVICE) == Tolerance(
        percent=Decimal(0), absolute=Decimal(0)
    )
    assert set(policy.rules()) == set(Category)


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("categories", "PHARMACY", "price_percent"), 1.5, "quote decimals"),
        (("categories", "PHARMACY", "price_absolute"), "-1", "greater than or equal to 0"),
        (("categories", "PHARMACY", "quantity_percent"), "150", "less than or equal to 100"),
        (("categories", "PHARMACY", "contract_price_unavailable"), "ignore", "'flag' or 'block'"),
        (("categories", "PHARMACY", "price_tolerance"), "1", "Extra inputs"),
        (("categories", "PHARMACEUTICALS"), {}, "Input should be"),
        (("duplicate_window_days",), -1, "greater than or equal to 0"),
    ],
)
def test_a_mistake_in_the_matching_section_stops_the_server_with_its_place(
    tmp_path, path, value, complaint
):
    # given the shipped configuration with one mistake planted
    config = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text())
    here = config["matching"]
    for key in path[:-1]:
        here = here[key]
    here[path[-1]] = value
    (tmp_path / "gateway.yaml").write_text(yaml.safe_dump(config))
    # then loading names it
    with pytest.raises(ConfigError) as refused:
        load_gateway_config(tmp_path / "gateway.yaml")
    assert "matching." + ".".join(path[:2]) in str(refused.value)
    assert complaint in str(refused.value)


def test_an_integer_is_exact_and_accepted():
    entry = PHARMACY_ONLY["categories"]["PHARMACY"] | {"quantity_absolute": 2}
    policy = MatchingPolicy.model_validate(PHARMACY_ONLY | {"categories": {"PHARMACY": entry}})
    assert policy.quantity_tolerance(Category.PHARMACY).absolute == Decimal(2)


def test_the_policy_is_frozen():
    with pytest.raises(ValidationError):
        shipped().duplicate_window_days = 30


def test_the_shipped_number_rules_map_unicode_confusables():
    rules = load_gateway_config(ROOT / "gateway.yaml").matching.review()
    assert rules.numbers.key("\u0406NV-001") == rules.numbers.key("INV-001")
    assert rules.near_duplicate_distance == 1
    assert (rules.stale_after_days, rules.hold_zero_total) == (365, True)
