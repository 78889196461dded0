"""gateway.yaml's `connectors` section and facility routes: every problem on a line of its own."""

from pathlib import Path

import pytest

from apgraph.domain.systems import ExternalSystem
from apgraph.policies.connectors import EndpointMode
from apgraph.policies.loader import ConfigError, load_gateway_config

ROOT = Path(__file__).resolve().parents[2]


def variant(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    text = (ROOT / "tests" / "gateway.yaml").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "gateway.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_connectors_section_runs_the_simulators_in_process():
    config = load_gateway_config(ROOT / "tests" / "gateway.yaml")

    assert config.connectors.mode is EndpointMode.SIMULATED
    assert config.connectors.resilience.attempts >= 1
    assert config.facilities["FAC-0003"].route.shadow is ExternalSystem.CLOUD_ERP


def test_bad_connector_settings_are_each_one_line(tmp_path):
    path = variant(
        tmp_path,
        ("  mode: simulated", "  mode: hybrid"),
        ("    attempts: 4 ", "    attempts: 0 "),
        ('base_url: "http://127.0.0.1:8100/materials"', 'base_url: "materials"'),
    )

    with pytest.raises(ConfigError) as refused:
        load_gateway_config(path)

    lines = str(refused.value).splitlines()
    assert len(lines) == 3, lines
    assert any("connectors.mode" in line for line in lines)
    assert any("connectors.resilience.attempts" in line for line in lines)
    assert any("connectors.materials.base_url" in line for line in lines)


def test_a_backoff_ceiling_below_its_start_is_refused(tmp_path):
    path = variant(tmp_path, ("    backoff_max: 5.0", "    backoff_max: 0.1"))

    with pytest.raises(ConfigError, match="backoff_max must be at least backoff_initial"):
        load_gateway_config(path)


@pytest.mark.parametrize(
    "route",
    [
        "{erp: cloud, migration: legacy}",
        "{erp: cloud, migration: shadow}",
        "{erp: legacy, migration: cloud}",
    ],
)
def test_an_erp_that_contradicts_the_migration_mode_is_refused(tmp_path, route):
    path = variant(tmp_path, ("FAC-0002: {erp: legacy, migration: legacy}", f"FAC-0002: {route}"))

    with pytest.raises(ConfigError, match="facilities.FAC-0002: .*so erp must be"):
        load_gateway_config(path)
