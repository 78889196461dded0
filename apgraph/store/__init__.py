"""Persistence: SQLAlchemy 2 tables, repositories (rows ⇄ domain), migrations, demo seed."""
