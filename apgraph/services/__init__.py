"""Use cases. They take repositories and connectors as parameters; the domain does the deciding."""
