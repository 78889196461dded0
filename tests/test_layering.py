"""The import arrows of STYLE.md §2, read from the source with `ast`."""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "apgraph"

# Each layer's ports, by capability (services/ports/): a layer names only those it needs.
READS = "services.ports.reads"
CLOCK = "services.ports.clock"
CONNECTORS = "services.ports.connectors"
UNIT_OF_WORK = "services.ports.unit_of_work"
WORKFLOW = "services.ports.workflow"
MASTER_DATA = "services.ports.master_data"
FIGURES = "services.ports.figures"
BUS = "services.ports.bus"
USAGE = "services.ports.usage"
KEYS = "services.ports.keys"
DEAD_LETTERS = "services.ports.dead_letters"
WEBHOOKS = "services.ports.webhooks"

# layer → the apgraph layers it may import (itself always allowed)
ALLOWED = {
    "domain": set(),
    "policies": {"domain"},
    "services": {"domain", "policies"},
    "store": {
        "domain",
        READS,
        CONNECTORS,
        UNIT_OF_WORK,
        MASTER_DATA,
        USAGE,
        FIGURES,
        KEYS,
        DEAD_LETTERS,
        WEBHOOKS,
    },
    "schema": {
        "domain",
        READS,
        CLOCK,
        CONNECTORS,
        UNIT_OF_WORK,
        WORKFLOW,
        MASTER_DATA,
        BUS,
        USAGE,
        DEAD_LETTERS,
        WEBHOOKS,
    },
    "resolvers": {"schema", "services", "domain"},
    "connectors": {"domain", CLOCK, CONNECTORS},
    "events": {
        "domain",
        READS,
        CLOCK,
        CONNECTORS,
        UNIT_OF_WORK,
        BUS,
        DEAD_LETTERS,
        WEBHOOKS,
        "services.periodic",
    },
    # the writer only (test below); it renders seeded remittance advice as the service does
    "demo": {"domain", "store", "services.remittance_pdf"},
    "observability": {"domain", CONNECTORS, FIGURES},
    "simulators": {"domain", "demo.generator"},  # never a connector's mapping, never the store
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


def test_the_demo_generator_is_pure_and_only_its_writer_touches_the_store():
    generator = imports_of(PACKAGE / "demo" / "generator.py")
    pure = ("apgraph.domain", "apgraph.demo.settlement")
    assert {name for name in generator if not name.startswith(pure)} == set()
    settlement = imports_of(PACKAGE / "demo" / "settlement.py")
    assert {name for name in settlement if not name.startswith("apgraph.domain")} == set()
    importers = sorted(
        path.name
        for path in (PACKAGE / "demo").rglob("*.py")
        if any(name.startswith("apgraph.store") for name in imports_of(path))
    )
    assert importers == ["writer.py"]
