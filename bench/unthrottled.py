"""The shipped gateway.yaml with every product's per-minute budgets raised, for benchmarks.

A benchmark sends one supplier thousands of pages a minute, far over the supplier portal's
budget of 600 requests and 60,000 cost units per minute: with the shipped limits it measures
429 refusals. Only the per-minute budgets change; throttling and demand control still run
(each request is still priced and spent), and so does everything else the product does.
"""

from pathlib import Path

import yaml

from apgraph.settings import shipped_gateway_config

BUDGET = 1_000_000_000  # per minute: never reached by a benchmark


def unthrottled_gateway_config(directory: Path) -> Path:
    """Writes the shipped gateway.yaml with raised per-minute budgets into `directory`."""
    config = yaml.safe_load(shipped_gateway_config().read_text())
    for product in (config.get("products") or {}).values():
        limits = product.setdefault("limits", {})
        limits["requests_per_minute"] = BUDGET
        limits["cost_per_minute"] = BUDGET
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "gateway.bench.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
