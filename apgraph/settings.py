"""Settings from the environment (`APGRAPH_*`): the only module that reads it."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """With nothing set, apgraph runs embedded: SQLite in `data_dir`, demo data, GraphiQL."""

    model_config = SettingsConfigDict(env_prefix="APGRAPH_", extra="ignore")

    environment: Literal["dev", "production"] = Field(
        default="dev",
        description="dev serves GraphiQL and unmasked error details; production does not",
    )
    data_dir: Path = Field(default=Path("apgraph-data"), description="embedded mode's files")
    database_url: str | None = Field(
        default=None, description="e.g. postgresql+asyncpg://user@host/db; default: SQLite"
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema to use (isolates test and bench runs)"
    )
    gateway_config: Path = Field(default=Path("gateway.yaml"))
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    seed_demo_data: bool = Field(
        default=True, description="seed demo data into an empty database on start"
    )
    demo_scale: float = Field(default=1.0, gt=0, le=20, description="size of the demo network")
    expose_sql_statements: bool = Field(
        default=False,
        description="report the SQL statement count of each operation in `extensions`",
    )

    def as_environment(self) -> dict[str, str]:
        """These settings as APGRAPH_* variables, for worker processes that rebuild them."""
        return {
            f"APGRAPH_{name.upper()}": str(value)
            for name, value in self.model_dump().items()
            if value is not None
        }

    @property
    def dev(self) -> bool:
        return self.environment == "dev"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'apgraph.db').resolve()}"
