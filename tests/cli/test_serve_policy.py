"""`apgraph serve --policy FILE` (or APGRAPH_POLICY_FILE) as a real process: a policy that
cannot be used stops the server at start with one line naming the file and the value."""

import json

import httpx
import pytest
import yaml

from tests.cli.test_serve import ROOT, run_and_fail, serving

SHIPPED = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text(encoding="utf-8"))["matching"]
NEGATIVE = {**SHIPPED["categories"]["PHARMACY"], "price_percent": "-1"}
BUNDLE = {"format": "apgraph.master-data", "version": 1}


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("absent.yaml", None, "{path}: file not found"),
        ("broken.json", "{", "{path}: not valid JSON: line 1 column 2: Expecting property name"),
        ("broken.yaml", "a: b\n c: d\n", "{path}: not valid YAML: line 2 column 3: mapping"),
        ("bundle.json", json.dumps(BUNDLE), "{path}: policy: the bundle has no policy section"),
        (
            "bundle.json",
            json.dumps({**BUNDLE, "policy": {**SHIPPED, "categories": {"PHARMACY": NEGATIVE}}}),
            "{path}: policy.categories.PHARMACY.price_percent: "
            "Input should be greater than or equal to 0",
        ),
        (
            "policy.yaml",
            yaml.safe_dump({**SHIPPED, "duplicate_window_days": "a week"}),
            "{path}: duplicate_window_days: Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
    ],
)
def test_a_policy_file_that_cannot_be_used_stops_the_server_with_one_line(
    tmp_path, name, text, expected
):
    path = tmp_path / name
    if text is not None:
        path.write_text(text, encoding="utf-8")

    result = run_and_fail("serve", "--data-dir", str(tmp_path / "data"), "--policy", str(path))

    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("apgraph: " + expected.format(path=path)), line
    assert not (tmp_path / "data").exists()  # refused before touching the database


def test_the_environment_names_the_policy_file_too(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump({**SHIPPED, "duplicate_window_days": -1}), encoding="utf-8")

    result = run_and_fail(
        "serve", "--data-dir", str(tmp_path / "data"), APGRAPH_POLICY_FILE=str(path)
    )

    assert result.stderr.strip().splitlines() == [
        f"apgraph: {path}: duplicate_window_days: Input should be greater than or equal to 0"
    ]


def test_a_server_started_with_a_bundles_policy_serves(tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps({**BUNDLE, "policy": SHIPPED}), encoding="utf-8")
    with serving(tmp_path, "--policy", str(path)) as (_, port):
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").json()["status"] == "ready"
