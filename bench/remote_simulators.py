"""The gateway.yaml a benchmark serves with when the simulators run in a process of their own
(`apgraph simulators serve`): the one the server would read, with `connectors.mode: remote`
and every system's base URL on that process's port.

In the default simulated mode the five simulators run inside the server, so the server's CPU
per submission includes the external systems' own work (parsing our SOAP and JSON, booking,
answering) and both ends of each in-process HTTP exchange. Served apart, the server pays only
for its client side and the loopback sockets: the figure that is apgraph's own.
"""

from pathlib import Path

import yaml

from apgraph.settings import default_gateway_config
from apgraph.simulators.suite import PREFIXES


def remote_simulators_config(directory: Path, *, port: int) -> Path:
    """Writes the gateway.yaml pointing every connector at 127.0.0.1:`port` into `directory`."""
    config = yaml.safe_load(default_gateway_config().read_text())
    connectors = config["connectors"]
    connectors["mode"] = "remote"
    for system, prefix in PREFIXES.items():
        connectors[system]["base_url"] = f"http://127.0.0.1:{port}{prefix}"
    connectors["cloud_erp"]["token_url"] = (
        f"http://127.0.0.1:{port}{PREFIXES['cloud_erp']}/oauth2/token"
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "gateway.remote-simulators.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
