"""`apgraph serve --workers N` on Linux: N server processes, each listening on a socket of
its own bound to the same address (SO_REUSEPORT), so that the kernel spreads new connections
across them.

uvicorn's workers share one listening socket, and a burst of new connections goes to
whichever process wakes first and accepts them all: measured with two workers and eight
clients connecting at once (`BENCH_WORKERS=2 bash bench/run_submit_invoices.sh`), one worker
took every connection and ran at a full core while the other stayed idle, so a second
worker added nothing (issue 19). With a socket per worker, Linux picks the worker of each
new connection from a hash of its addresses and ports. uvicorn has no option for it yet (its
pull request #2472 is open), so this small supervisor is ours; it uses uvicorn's public
`Config` and `Server` only. It starts the workers, restarts one that dies (killed for memory,
say), gives up when a worker cannot start or keeps dying, and on SIGINT or SIGTERM stops them
all, each finishing its requests as uvicorn does. Elsewhere `serve` keeps uvicorn's workers.
"""

import multiprocessing
import signal
import socket
import sys
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

APP = "apgraph.gateway.app:create_app_from_environment"  # each worker builds the app itself
STOP_SECONDS = 60.0  # a stopping worker's time to finish its requests, then it is killed
RESTARTS_ALLOWED = 5  # unexpected exits within RESTART_WINDOW_SECONDS before giving up
RESTART_WINDOW_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """What a worker process needs to serve (the rest comes from the environment)."""

    host: str
    port: int
    ws_per_message_deflate: bool


def spreads_connections() -> bool:
    """Whether this system spreads a port's connections across the sockets bound to it."""
    return sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port beside the other workers' (uvicorn listens on it)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def run_worker(options: WorkerOptions) -> None:
    """One worker process: its own socket, the app built from the environment."""
    try:
        sock = listening_socket(options.host, options.port)
    except OSError as error:
        print(
            f"apgraph: a worker cannot listen on {options.host}:{options.port}: {error.strerror}",
            file=sys.stderr,
        )
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(
        APP,
        factory=True,
        host=options.host,
        port=options.port,
        log_config=None,  # uvicorn's loggers write through ours (logs.configure)
        ws_per_message_deflate=options.ws_per_message_deflate,
    )
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """Keeps `count` workers running until told to stop."""

    def __init__(self, options: WorkerOptions, count: int) -> None:
        self.options = options
        self.count = count
        self.context = multiprocessing.get_context("spawn")  # a clean interpreter each
        self.workers: list[BaseProcess] = []
        self.stopping = False
        self.failure: str | None = None
        self.exits: deque[float] = deque(maxlen=RESTARTS_ALLOWED + 1)

    def run(self) -> int:
        """Serves until SIGINT or SIGTERM (0) or until the workers cannot be kept up (1)."""
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.workers = [self.start() for _ in range(self.count)]
            while not self.stopping:
                wait([worker.sentinel for worker in self.workers])
                if not self.stopping:
                    self.replace_ended()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stop_all()
        if self.failure is not None:
            print(f"apgraph: {self.failure}", file=sys.stderr)
            return 1
        return 0

    def start(self) -> BaseProcess:
        worker = self.context.Process(
            target=run_worker, args=(self.options,), name="apgraph-worker", daemon=False
        )
        worker.start()
        return worker

    def stop(self, sig: int, frame: FrameType | None) -> None:
        """The signal handler: every worker stops, finishing its requests first."""
        self.stopping = True
        for worker in self.workers:
            if worker.is_alive() and worker.pid is not None:
                worker.terminate()  # SIGTERM: uvicorn's graceful shutdown

    def replace_ended(self) -> None:
        for index, worker in enumerate(self.workers):
            if worker.is_alive():
                continue
            worker.join()
            if worker.exitcode == STARTUP_FAILURE:
                self.give_up("a worker could not start (its log is above)")
                return
            self.exits.append(time.monotonic())
            if (
                len(self.exits) > RESTARTS_ALLOWED
                and self.exits[-1] - self.exits[0] < RESTART_WINDOW_SECONDS
            ):
                self.give_up(
                    f"workers ended {len(self.exits)} times within "
                    f"{RESTART_WINDOW_SECONDS:.0f} s (the last with exit code {worker.exitcode})"
                )
                return
            print(
                f"apgraph: worker {worker.pid} ended (exit code {worker.exitcode}); "
                "starting another",
                file=sys.stderr,
            )
            self.workers[index] = self.start()

    def give_up(self, why: str) -> None:
        self.failure = why
        self.stop(signal.SIGTERM, None)

    def stop_all(self) -> None:
        self.stopping = True
        for worker in self.workers:
            if worker.is_alive():
                worker.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self.workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                worker.kill()
                worker.join()


def serve_workers(options: WorkerOptions, count: int) -> int:
    """Runs `count` workers on options.host:options.port; answers the exit status."""
    return Supervisor(options, count).run()
