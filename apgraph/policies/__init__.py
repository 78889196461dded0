"""gateway.yaml as validated pydantic models, and the functions that read it."""
