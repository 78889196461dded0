"""`python -m apgraph`: the same as the `apgraph` command."""

from apgraph.cli.main import app

app(prog_name="apgraph")
