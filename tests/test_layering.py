"""The import arrows of STYLE.md §2, read from the source with `ast`."""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "apgraph"

# layer → the apgraph layers it may import (itself always allowed)
ALLOWED = {
    "domain": set(),
    "policies": {"domain"},
    "services": {"domain", "policies"},
    "store": {"domain", "services.ports"},
    "schema": {"domain", "services.ports"},
    "resolvers": {"schema", "services", "domain"},
    "connectors": {"domain", "services.ports"},
    "events": {"domain", "services.ports", "services.periodic"},
    "simulators": {"domain", "store.seed"},  # never a connector's mapping
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.startswith("apgraph.")}


def allowed(layer: str, imported: str) -> bool:
    target = imported.removeprefix("apgraph.")
    if target == layer or target.startswith(layer + "."):
        return True
    return any(target == ok or target.startswith(ok + ".") for ok in ALLOWED[layer])


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_what_it_may(layer):
    wrong = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for name in sorted(imports_of(path))
        if not allowed(layer, name)
    ]
    assert wrong == []


def test_the_domain_imports_only_the_standard_library_and_itself():
    offenders = []
    for path in sorted((PACKAGE / "domain").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            offenders += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] not in sys.stdlib_module_names
                and not name.startswith("apgraph.domain")
            ]
    assert offenders == []
