"""The per-request context every resolver sees, and the `Info` type that carries it."""

from dataclasses import dataclass
from typing import Any

import strawberry

from apgraph.domain.principal import Principal
from apgraph.schema.loaders import Loaders
from apgraph.services.ports import PageLimits, Reads


@dataclass(slots=True)
class Context:
    principal: Principal
    store: Reads  # scoped to `principal` already
    loaders: Loaders
    page_limits: PageLimits
    request: Any = None  # the Starlette request or websocket
    response: Any = None


Info = strawberry.Info[Context, None]
