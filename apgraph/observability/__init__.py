"""Metrics, logs (and their names and units, in one place): what operators watch (DESIGN §9)."""
