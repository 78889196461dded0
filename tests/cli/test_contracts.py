"""The frozen SDL in contracts/ is what each product version serves: a change is reviewed,
and a breaking change to a released version is refused."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = yaml.safe_load((ROOT / "gateway.yaml").read_text(encoding="utf-8"))
FINANCE_V1 = SHIPPED["products"]["finance-ops"]["versions"]["v1"]


def contracts(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "apgraph.cli", "contracts", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def frozen_copy(tmp_path: Path) -> Path:
    """The shipped contracts, in a folder the test may change."""
    return Path(shutil.copytree(ROOT / "contracts", tmp_path / "contracts"))


def finance_view(tmp_path: Path, query: list[str]) -> Path:
    """gateway.yaml with finance-ops v1 (active: released) exposing these root query fields."""
    view = {**FINANCE_V1["view"], "Query": query}
    finance = {
        **SHIPPED["products"]["finance-ops"],
        "versions": {"v1": {**FINANCE_V1, "view": view}},
    }
    config = {**SHIPPED, "products": {**SHIPPED["products"], "finance-ops": finance}}
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_frozen_contracts_match_what_each_product_version_serves():
    result = contracts("check")
    assert result.returncode == 0, (
        f"{result.stderr}\nA schema changed: review the changes, then `apgraph contracts export`."
    )


def test_a_drifted_full_schema_contract_is_refused_listing_the_change(tmp_path):
    root = frozen_copy(tmp_path)
    edit(
        root / "apgraph.graphql",
        '  """The number the supplier printed on the invoice."""\n'
        "  supplierInvoiceNumber: String!\n",
        "",
    )

    result = contracts("check", "--dir", str(root))

    assert result.returncode == 1
    assert "Field Invoice.supplierInvoiceNumber was added" in result.stderr
    assert "1 of 5 contracts differ" in result.stderr.splitlines()[-1]


def test_removing_a_field_from_a_released_version_fails_check_and_export(tmp_path):
    # given finance-ops v1 (active) without auditLog in its view
    root = frozen_copy(tmp_path)
    query = [name for name in FINANCE_V1["view"]["Query"] if name != "auditLog"]
    config = finance_view(tmp_path, query)

    # when CI checks, and someone tries to freeze it
    checked = contracts("check", "--dir", str(root), "--gateway-config", str(config))
    exported = contracts("export", "--dir", str(root), "--gateway-config", str(config))

    # then both refuse, naming the breaking change
    assert checked.returncode == 1
    assert "breaking a released version" in checked.stderr
    assert "Field Query.auditLog was removed" in checked.stderr
    assert exported.returncode == 1
    assert "Query.auditLog was removed" in exported.stderr
    assert (root / "finance-ops" / "v1.graphql").read_text() == (
        ROOT / "contracts" / "finance-ops" / "v1.graphql"
    ).read_text()


def test_making_an_argument_required_fails_check(tmp_path):
    # given a contract whose invoice(id:) was optional: the code now requires it
    root = frozen_copy(tmp_path)
    contract = root / "finance-ops" / "v1.graphql"
    sdl = contract.read_text(encoding="utf-8")
    optional, count = re.subn(r'(\n  invoice\(\n(?:    """[^\n]*"""\n)?    id: ID)!', r"\1", sdl)
    assert count == 1
    contract.write_text(optional, encoding="utf-8")

    result = contracts("check", "--dir", str(root))

    assert result.returncode == 1
    assert "Argument Query.invoice(id:) has changed type from ID to ID!." in result.stderr


def test_narrowing_a_type_fails_check(tmp_path):
    # given a contract whose InvoiceStatus had one more value than the code now has
    root = frozen_copy(tmp_path)
    edit(
        root / "supplier-portal" / "v1.graphql",
        "enum InvoiceStatus {\n",
        "enum InvoiceStatus {\n  ARCHIVED\n",
    )

    result = contracts("check", "--dir", str(root))

    assert result.returncode == 1
    assert "Enum value InvoiceStatus.ARCHIVED was removed." in result.stderr


def test_adding_an_optional_field_passes_once_exported(tmp_path):
    # given finance-ops v1 gaining the nullable `connectors` field
    root = frozen_copy(tmp_path)
    config = finance_view(tmp_path, [*FINANCE_V1["view"]["Query"], "connectors"])
    unexported = contracts("check", "--dir", str(root), "--gateway-config", str(config))

    # when it is exported
    exported = contracts("export", "--dir", str(root), "--gateway-config", str(config))

    # then check passes, where it failed before the export
    assert unexported.returncode == 1
    assert "Field Query.connectors was added" in unexported.stderr
    assert exported.returncode == 0, exported.stderr
    checked = contracts("check", "--dir", str(root), "--gateway-config", str(config))
    assert checked.returncode == 0, checked.stderr


def test_diff_lists_breaking_dangerous_and_safe_changes_as_text_and_markdown(tmp_path):
    # given a v2 of the portal that drops invoiceEvents, adds an enum value and deprecates a field
    root = frozen_copy(tmp_path)
    v2 = root / "supplier-portal" / "v2.graphql"
    shutil.copy(root / "supplier-portal" / "v1.graphql", v2)
    edit(v2, "  invoiceEvents(", "  invoiceEventz(")
    edit(v2, "enum InvoiceStatus {\n", "enum InvoiceStatus {\n  ARCHIVED\n")
    edit(
        v2, "  invoiceDate: Date!\n", '  invoiceDate: Date! @deprecated(reason: "Use issuedOn.")\n'
    )

    text = contracts("diff", "supplier-portal", "v1", "v2", "--dir", str(root))
    markdown = contracts("diff", "supplier-portal", "v1", "v2", "--dir", str(root), "--markdown")

    assert text.returncode == 0, text.stderr
    assert "Breaking (1):\n  - Field Query.invoiceEvents was removed." in text.stdout
    assert "Dangerous (1):\n  - Enum value InvoiceStatus.ARCHIVED was added." in text.stdout
    assert "  - Invoice.invoiceDate deprecated: Use issuedOn." in text.stdout
    assert markdown.stdout.startswith(
        "### supplier-portal: v1 → v2\n\n**Breaking: needs a new version.**"
    )
    assert "#### Safe (" in markdown.stdout
    assert "- Field Query.invoiceEventz was added." in markdown.stdout
