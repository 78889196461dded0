"""The frozen SDL in contracts/ is the schema the code serves: a change must be reviewed."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def contracts(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apgraph.cli", "contracts", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_frozen_contract_matches_the_schema():
    result = contracts("check")
    assert result.returncode == 0, (
        f"{result.stderr}\nThe schema changed: review the diff, then `apgraph contracts export`."
    )


def test_a_drifted_contract_is_refused_with_a_diff(tmp_path):
    drifted = tmp_path / "apgraph.graphql"
    original = (ROOT / "contracts" / "apgraph.graphql").read_text()
    drifted.write_text(original.replace("  supplierInvoiceNumber: String!\n", "", 1))
    result = contracts("check", "--path", str(drifted))
    assert result.returncode == 1
    assert "+  supplierInvoiceNumber: String!" in result.stderr
    assert "differs from the schema" in result.stderr.splitlines()[-1]
