"""Serve an ASGI app on loopback from a background thread (tests, benchmarks, the sandbox).

Emulators are plain ASGI apps; this runs one under uvicorn on 127.0.0.1 with an ephemeral port
(or a given one), optionally over TLS, and stops it cleanly.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int
    scheme: str

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    ssl_certfile: Path | None = None,
    ssl_keyfile: Path | None = None,
    startup_timeout_s: float = 10.0,
) -> Iterator[RunningServer]:
    """Run `app` until the block exits; yields where it listens."""
    chosen_port = port or free_port(host)
    config = uvicorn.Config(
        app,
        host=host,
        port=chosen_port,
        log_level="warning",
        access_log=False,
        lifespan="auto",
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"asgi-{chosen_port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"server on {host}:{chosen_port} failed to start")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise TimeoutError(f"server on {host}:{chosen_port} did not start in {startup_timeout_s}s")
        time.sleep(0.01)
    try:
        yield RunningServer(host=host, port=chosen_port, scheme="https" if ssl_certfile else "http")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
