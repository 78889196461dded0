"""gateway.yaml: read once, every problem on a line of its own."""

from pathlib import Path

import pytest
import yaml

from apgraph.domain.erp import MigrationMode
from apgraph.domain.systems import ExternalSystem
from apgraph.policies.loader import ConfigError, load_gateway_config
from apgraph.settings import shipped_gateway_config

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_gateway_yaml_is_valid():
    config = load_gateway_config(ROOT / "tests" / "gateway.yaml")
    assert config.facilities["FAC-0001"].erp is ExternalSystem.LEGACY_ERP
    assert config.facilities["FAC-0003"].migration is MigrationMode.SHADOW
    assert "supplier-portal" in config.products


def test_every_problem_is_reported_on_its_own_line(tmp_path):
    # given the shipped configuration with four mistakes planted in it
    config = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text())
    config["facilities"]["FAC-1"] = {"erp": "legacy", "migration": "legacy"}
    config["facilities"]["FAC-0002"]["erp"] = "mainframe"
    config["limits"]["max_page_size"] = 0
    config["limits"]["max_pages"] = 3
    path = write(tmp_path, yaml.safe_dump(config))

    # when it is loaded
    with pytest.raises(ConfigError) as refused:
        load_gateway_config(path)

    # then each mistake is one line, naming where it is
    lines = str(refused.value).splitlines()
    assert len(lines) == 4, lines
    assert any("facilities.FAC-1" in line and "FAC-0001" in line for line in lines)
    assert any("facilities.FAC-0002.erp" in line for line in lines)
    assert any("limits.max_page_size" in line for line in lines)
    assert any("limits.max_pages" in line and "Extra inputs" in line for line in lines)
    assert all(line.startswith(f"{path}: ") for line in lines)


@pytest.mark.parametrize(
    ("written", "expected"),
    [("legacy", ExternalSystem.LEGACY_ERP), ("legacy_erp", ExternalSystem.LEGACY_ERP)],
)
def test_an_erp_is_named_as_operators_write_it_or_by_its_system_name(tmp_path, written, expected):
    # given a facility routed to the legacy ERP, by its short name or its system name
    config = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text())
    config["facilities"]["FAC-0001"]["erp"] = written

    # when it is loaded
    loaded = load_gateway_config(write(tmp_path, yaml.safe_dump(config)))

    # then it is that ERP, and the effective configuration shows the short name, as before
    assert loaded.facilities["FAC-0001"].erp is expected
    assert loaded.model_dump(mode="json")["facilities"]["FAC-0001"]["erp"] == "legacy"


def test_a_system_that_is_no_erp_is_one_line_naming_the_key_and_the_names_to_use(tmp_path):
    config = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text())
    config["facilities"]["FAC-0001"]["erp"] = "materials"
    with pytest.raises(ConfigError) as refused:
        load_gateway_config(write(tmp_path, yaml.safe_dump(config)))
    (line,) = str(refused.value).splitlines()
    assert "facilities.FAC-0001.erp" in line
    assert "'materials' is not an ERP: write legacy or cloud" in line


def test_a_missing_section_is_named(tmp_path):
    config = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text())
    del config["access"]
    with pytest.raises(ConfigError, match="access: Field required"):
        load_gateway_config(write(tmp_path, yaml.safe_dump(config)))


def test_a_missing_file_and_broken_yaml_are_one_line_each(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_gateway_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_gateway_config(write(tmp_path, "facilities: [unclosed"))


def test_the_shipped_gateway_yaml_names_no_facility_so_it_works_on_an_empty_database():
    assert load_gateway_config(shipped_gateway_config()).facilities == {}


def test_the_tests_gateway_yaml_is_the_shipped_one_plus_facility_overrides():
    shipped = yaml.safe_load(shipped_gateway_config().read_text())
    tests = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text())
    assert tests["facilities"]
    # and nothing else differs: the tests' /graphql is the operators' (admin) as shipped, so
    # every test acting as a supplier, an approver or a partner goes through its product
    assert tests["internal_schema"] == shipped["internal_schema"] == {"scope": "admin"}
    assert {**tests, "facilities": {}} == shipped
    # the clone's gateway.yaml is the shipped one, not a copy that could drift
    assert (ROOT / "gateway.yaml").resolve() == shipped_gateway_config().resolve()
