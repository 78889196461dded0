"""The submit benchmark's gateway.yaml for simulators in a process of their own
(bench/remote_simulators.py): valid, remote, and every system on that process's port under
the path `apgraph simulators serve` gives it."""

from pathlib import Path

from apgraph.policies.connectors import EndpointMode
from apgraph.policies.loader import load_gateway_config
from apgraph.simulators.suite import PREFIXES
from bench.remote_simulators import remote_simulators_config


def test_every_connector_points_at_the_simulators_process(tmp_path: Path):
    config = load_gateway_config(remote_simulators_config(tmp_path, port=8124)).connectors

    assert config.mode is EndpointMode.REMOTE
    assert {system: str(getattr(config, system).base_url) for system in PREFIXES} == {
        system: f"http://127.0.0.1:8124{prefix}" for system, prefix in PREFIXES.items()
    }
    assert str(config.cloud_erp.token_url) == "http://127.0.0.1:8124/cloud-erp/oauth2/token"
