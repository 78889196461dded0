"""`python -m apgraph.cli`: the same as the `apgraph` command."""

from apgraph.cli.main import app

app(prog_name="apgraph")
