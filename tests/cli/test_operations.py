"""`apgraph operations add|list|remove` keep a product's allow-list file."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
VIEWER = "query Viewer { viewer { subject } }"
VIEWER_ID = hashlib.sha256(VIEWER.encode()).hexdigest()


def operations(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apgraph.cli", "operations", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_add_list_and_remove_a_partners_operations(tmp_path):
    # given gateway.yaml keeping the partner list next to it, and an Apollo manifest
    raw = yaml.safe_load((ROOT / "gateway.yaml").read_text())
    stored_at = tmp_path / "operations" / "partner-procurement.json"
    raw["products"]["partner-procurement"]["persisted_operations"]["file"] = str(stored_at)
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump(raw))
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": VIEWER_ID, "name": "Viewer", "body": VIEWER}],
            }
        )
    )
    where = ["--gateway-config", str(config)]

    # when the manifest is added, listed, then removed
    added = operations("add", "partner-procurement", str(manifest), *where)
    listed = operations("list", "partner-procurement", *where)
    removed = operations("remove", "partner-procurement", VIEWER_ID, *where)
    again = operations("remove", "partner-procurement", VIEWER_ID, *where)

    # then the list file followed each step
    assert added.returncode == 0, added.stderr
    assert f"{VIEWER_ID}  Viewer" in listed.stdout
    assert removed.returncode == 0
    stored = json.loads(stored_at.read_text())
    assert VIEWER_ID not in stored
    assert again.returncode == 1
    assert f"no operation {VIEWER_ID}" in again.stderr


def test_a_product_without_a_list_file_is_named(tmp_path):
    result = operations("list", "finance-ops")
    assert result.returncode == 1
    assert "finance-ops keeps no list" in result.stderr
