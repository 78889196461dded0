"""`apgraph operations add|list|remove`: a product's allow-list of persisted operations.

The list is the file gateway.yaml names in the product's `persisted_operations.file`, kept
in the Codegen / Hive trusted-documents form; `add` reads what clients produce (an Apollo
persisted-query manifest, a trusted-documents JSON, or a .graphql document). Servers read
the list at start: restart them (or roll them) after a change.
"""

from pathlib import Path

import typer

from apgraph.cli.options import GatewayConfigPath, fail, settings_from
from apgraph.gateway.products.operation_lists import (
    OperationList,
    OperationListError,
    list_path,
    list_target,
    operation_name,
    read_operation_list,
    write_operation_list,
)
from apgraph.policies.loader import ConfigError, load_gateway_config

operations_app = typer.Typer(help="A product's allow-list of persisted operations.")


def register(app: typer.Typer) -> None:
    app.add_typer(operations_app, name="operations")


def _list_of(product: str, gateway_config: Path | None) -> tuple[Path, OperationList]:
    settings = settings_from(gateway_config=gateway_config)
    try:  # gateway.yaml alone: the list itself may not exist yet
        config = load_gateway_config(settings.gateway_config)
    except ConfigError as error:
        fail(str(error))
    if product not in config.products:
        fail(f"unknown product {product!r}; gateway.yaml has {', '.join(config.products)}")
    policy = config.products[product].persisted_operations
    path = list_path(settings.gateway_config, policy)
    if path is None or policy.file is None:
        fail(f"{product} keeps no list: set products.{product}.persisted_operations.file")
    try:
        current = read_operation_list(path) if path.exists() else OperationList()
    except OperationListError as error:
        fail(str(error))
    return list_target(settings.gateway_config, policy.file), current


@operations_app.command("add")
def add(
    product: str = typer.Argument(..., help="e.g. partner-procurement"),
    files: list[Path] = typer.Argument(
        ..., help="Apollo manifest, trusted-documents JSON or .graphql files"
    ),
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Add operations to the product's list (an id already there is replaced)."""
    path, current = _list_of(product, gateway_config)
    try:
        added = [read_operation_list(file) for file in files]
    except OperationListError as error:
        fail(str(error))
    for operations in added:
        current = current.merged(operations)
        for document_id, document in operations.documents.items():
            typer.echo(f"{document_id}  {operation_name(document)}")
    write_operation_list(path, current)
    typer.echo(f"apgraph: {path} holds {len(current.documents)} operations")


@operations_app.command("list")
def list_operations(
    product: str = typer.Argument(..., help="e.g. partner-procurement"),
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Each operation on the list: its id and its operation name."""
    _, current = _list_of(product, gateway_config)
    for document_id, document in sorted(current.documents.items()):
        typer.echo(f"{document_id}  {operation_name(document)}")


@operations_app.command("remove")
def remove(
    product: str = typer.Argument(..., help="e.g. partner-procurement"),
    document_id: str = typer.Argument(..., help="the id `list` shows"),
    gateway_config: Path = GatewayConfigPath,
) -> None:
    """Take an operation off the list: clients sending its id are refused from then on."""
    path, current = _list_of(product, gateway_config)
    if current.get(document_id) is None:
        fail(f"no operation {document_id} on {product}'s list")
    write_operation_list(path, current.without(document_id))
    typer.echo(f"apgraph: removed {document_id} from {path}")
