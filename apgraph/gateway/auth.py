"""Who is calling. Until token authentication lands, the embedded server's operator.

Every request goes through `authenticate`, so real authentication replaces this one function.
"""

from starlette.requests import HTTPConnection

from apgraph.domain.principal import Principal


def authenticate(connection: HTTPConnection) -> Principal:
    return Principal.operator()
