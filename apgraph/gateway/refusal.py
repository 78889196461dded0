"""The one error a server (or a command) refuses to start with."""


class StartupError(Exception):
    """The server cannot start; the message says why in one line (or one per problem)."""
