"""The `apgraph` command line: thin typer commands over the gateway, services and store."""
