"""The one way tests run an ASGI app on loopback: uvicorn in a thread, on a free port."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

START_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: ASGIApp, *, name: str = "server", port: int | None = None) -> Iterator[str]:
    """Serves `app` until the block ends; yields its base URL once its lifespan has started.

    The server has its own thread and event loop, as a separate process would, so a test's
    requests really cross the loopback interface.
    """
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name=name)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started:  # a condition polled, not a guess at how long start-up takes
            assert thread.is_alive(), f"the {name} stopped during start-up"
            assert time.monotonic() < deadline, f"the {name} did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
