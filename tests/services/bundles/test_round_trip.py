"""Writing a bundle and reading it back gives the same bundle, in either form, and writing is
byte-stable: export, import, export gives identical files."""

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from apgraph.demo import generator
from apgraph.domain.bundle import MasterDataBundle
from apgraph.domain.systems import ERPS
from apgraph.policies.matching import CategoryPolicy, MatchingPolicy
from apgraph.services.bundles import (
    KnownIds,
    read_bundle_path,
    read_csv_files,
    read_json,
    schema,
    write_bundle_path,
    write_csv,
    write_json,
)
from tests.bundles import bundle_of, bundles
from tests.services.bundles.examples import POLICY

with_policies = st.builds(
    lambda bundle, policy: MasterDataBundle(
        facilities=bundle.facilities,
        cost_centers=bundle.cost_centers,
        suppliers=bundle.suppliers,
        purchase_orders=bundle.purchase_orders,
        goods_receipts=bundle.goods_receipts,
        contract_prices=bundle.contract_prices,
        policy=policy,
    ),
    bundles(),
    st.sampled_from([None, POLICY]),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(bundle=with_policies)
def test_a_bundle_survives_the_json_form(bundle):
    # when
    written = write_json(bundle)
    read, problems = read_json(written, known=KnownIds())

    # then
    assert problems == []
    assert read == bundle
    assert write_json(read) == written


@SETTINGS
@given(bundle=with_policies)
def test_a_bundle_survives_the_csv_form(bundle):
    # when
    written = write_csv(bundle)
    read, problems = read_csv_files(written, known=KnownIds())

    # then
    assert problems == []
    assert read == bundle
    assert write_csv(read) == written


@SETTINGS
@given(bundle=with_policies)
def test_what_is_written_is_valid_against_the_shipped_schema(bundle):
    Draft202012Validator(schema()).validate(json.loads(write_json(bundle)))


@pytest.fixture(scope="module")
def demo() -> MasterDataBundle:
    return bundle_of(generator.generate(generator.DemoSize().scaled(0.05)))


@pytest.mark.parametrize("form", ["json", "csv"])
def test_the_demo_network_survives_both_forms_on_disk(demo, form, tmp_path: Path):
    # given
    path = tmp_path / ("network.json" if form == "json" else "network")

    # when
    write_bundle_path(demo, path, format=form)
    read, problems = read_bundle_path(path, known=KnownIds())

    # then
    assert problems == []
    assert read == demo
    assert demo.counts()["purchase_order_lines"] > 0
    assert {entry.erp for entry in demo.facilities} == set(ERPS)


def test_decimals_are_written_by_value_not_by_how_they_were_spelled(demo):
    # given the same network with every price spelled to four places, as the store keeps it
    text = write_json(demo).decode()
    price = re.search(r'"unit_price": "(\d+\.\d\d)"', text)
    assert price is not None
    respelled = text.replace(price.group(0), f'"unit_price": "{price.group(1)}00"')
    assert respelled != text

    # when
    read, problems = read_json(respelled.encode())

    # then
    assert problems == []
    assert write_json(read) == write_json(demo)


def test_every_csv_file_is_written_with_its_header_even_when_empty():
    # when
    files = write_csv(MasterDataBundle())

    # then
    assert files["goods_receipts.csv"] == b"id,purchase_order_id,line_no,quantity,received_at\n"
    assert len(files) == 9
    assert "policy.json" not in files


def test_the_schema_describes_the_policy_the_matching_model_reads():
    policy = schema()["$defs"]["policy"]
    category = policy["properties"]["categories"]["additionalProperties"]
    assert set(policy["properties"]) == set(MatchingPolicy.model_fields)
    assert set(category["properties"]) == set(CategoryPolicy.model_fields)


def test_the_example_in_the_documentation_is_a_valid_bundle():
    # given
    text = (Path(__file__).parents[3] / "docs" / "master-data.md").read_text(encoding="utf-8")
    example = text.split("```json\n", 1)[1].split("```", 1)[0]

    # when
    bundle, problems = read_json(example.encode(), known=KnownIds())

    # then
    assert problems == []
    assert bundle is not None
    assert bundle.policy is not None
