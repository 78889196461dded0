"""`--policy FILE`: the matching policy from a bundle or from a file of its own, refused with
one line per problem naming the file and the value's path."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from apgraph.domain.purchasing import Category
from apgraph.policies.loader import ConfigError, load_gateway_config
from apgraph.policies.policy_file import load_matching_policy, with_policy_file

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text(encoding="utf-8"))["matching"]
STRICT_SUPPLIES = {
    "duplicate_window_days": 3,
    "categories": {
        "MEDICAL_SUPPLIES": {
            "quantity_percent": "0",
            "quantity_absolute": "0",
            "price_percent": "1",
            "price_absolute": "5.00",
            "receipt_required": True,
            "contract_price_unavailable": "block",
        }
    },
}

NEGATIVE_PRICE = {**SHIPPED["categories"]["PHARMACY"], "price_percent": "-1"}


def bundle_with(policy: object | None) -> dict[str, object]:
    document: dict[str, object] = {"format": "apgraph.master-data", "version": 1}
    if policy is not None:
        document["policy"] = policy
    return document


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bundle.json", json.dumps(bundle_with(STRICT_SUPPLIES))),
        ("policy.json", json.dumps(STRICT_SUPPLIES)),
        ("policy.yaml", yaml.safe_dump(STRICT_SUPPLIES)),
        ("matching.yml", yaml.safe_dump({"matching": STRICT_SUPPLIES})),  # cut from gateway.yaml
    ],
)
def test_the_policy_is_read_from_a_bundle_or_a_file_of_its_own(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    policy = load_matching_policy(path)

    assert policy.duplicate_window_days == 3
    rules = policy.category_rules(Category.MEDICAL_SUPPLIES)
    assert rules.quantity.allowance_on(Decimal(50)) == 0
    assert rules.price.allowance_on(Decimal(100)) == 1


def test_the_file_replaces_gateway_yamls_matching_section_and_nothing_else(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(STRICT_SUPPLIES), encoding="utf-8")
    shipped = load_gateway_config(ROOT / "tests" / "gateway.yaml")

    config = with_policy_file(shipped, path)

    assert config.matching == load_matching_policy(path)
    assert config.matching != shipped.matching
    assert config.model_dump(exclude={"matching"}) == shipped.model_dump(exclude={"matching"})
    assert with_policy_file(shipped, None) is shipped


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("absent.json", None, "{path}: file not found"),
        ("broken.json", '{"categories": ', "{path}: not valid JSON: line 1 column 16: "),
        ("broken.yaml", "a: b\n c: d\n", "{path}: not valid YAML: line 2 column 3: mapping values"),
        ("empty.yaml", "", "{path}: (top): expected an object"),
        ("bundle.json", json.dumps(bundle_with(None)), "{path}: policy: the bundle has no policy"),
        (
            "bundle.json",
            json.dumps(bundle_with({**SHIPPED, "categories": {"PHARMACY": NEGATIVE_PRICE}})),
            "{path}: policy.categories.PHARMACY.price_percent: Input should be greater than",
        ),
        (
            "policy.yaml",
            yaml.safe_dump({**SHIPPED, "duplicate_window_days": 400}),
            "{path}: duplicate_window_days: Input should be less than or equal to 366",
        ),
        (
            "policy.yaml",
            "duplicate_window_days: 7\ncategories:\n  PHARMACY: {quantity_percent: 0.5}\n",
            '{path}: categories.PHARMACY.quantity_percent: Value error, quote decimals ("0.5")',
        ),
        (
            "matching.yaml",
            yaml.safe_dump({"matching": {**SHIPPED, "tolerances": {}}}),
            "{path}: matching.tolerances: Extra inputs are not permitted",
        ),
        (
            "policy.json",
            json.dumps({**SHIPPED, "categories": {"DENTAL": {}}}),
            "{path}: categories.DENTAL.[key]: Input should be",
        ),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_naming_the_file_and_the_value(
    tmp_path, name, text, expected
):
    path = tmp_path / name
    if text is not None:
        path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError) as refused:
        load_matching_policy(path)

    assert str(refused.value).startswith(expected.format(path=path)), str(refused.value)


def test_every_problem_is_its_own_line(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(
        yaml.safe_dump({"duplicate_window_days": -1, "categories": {}, "extra": 1}),
        encoding="utf-8",
    )

    with pytest.raises(ConfigError) as refused:
        load_matching_policy(path)

    assert str(refused.value).splitlines() == [
        f"{path}: duplicate_window_days: Input should be greater than or equal to 0",
        f"{path}: extra: Extra inputs are not permitted",
    ]
