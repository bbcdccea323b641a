"""Command line: open the engine, serve HTTP until SIGTERM/SIGINT, let running queries finish."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from .engine import Engine
from .handler import ChdbHTTPServer

LOG = logging.getLogger("chdb-http")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="ClickHouse-compatible HTTP server backed by chDB.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8123, help="port to listen on (default 8123, 0 = any)")
    parser.add_argument("--path", required=True, help="data directory (created if missing)")
    parser.add_argument(
        "--timezone",
        default="UTC",
        help="server timezone, UTC like the official docker image ('' keeps the environment's TZ)",
    )
    parser.add_argument(
        "--shutdown-grace", type=float, default=30.0, help="seconds to let running queries finish"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if args.timezone:
        # Must happen before the engine starts: chDB takes its timezone from TZ.
        os.environ["TZ"] = args.timezone
        if hasattr(time, "tzset"):
            time.tzset()

    path = os.path.abspath(args.path)
    if "?" in path:
        parser.error("--path must not contain '?' (chDB reads it as connection options)")
    os.makedirs(path, exist_ok=True)

    engine = Engine(path)
    try:
        server = ChdbHTTPServer((args.host, args.port), engine)
    except OSError:
        engine.close()
        raise
    host, port = server.server_address[0], server.server_address[1]
    host = host.decode() if isinstance(host, bytes) else host
    versions = f"chdb {engine.chdb_version}, ClickHouse {engine.version}"
    print(f"chdb-http listening on http://{host}:{port} ({versions})", flush=True)

    # serve_forever runs in a thread: the signal handler (main thread) only sets
    # an event, and shutdown() must not be called from the serving thread.
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    # Installed after chDB started, so our handlers are the ones in effect.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    serving.start()
    while not stop.wait(0.5):
        if not serving.is_alive():
            break
    LOG.info("shutting down")
    server.shutdown()
    server.server_close()
    deadline = time.monotonic() + args.shutdown_grace
    with server.active_cond:
        while server.active_requests and time.monotonic() < deadline:
            server.active_cond.wait(0.2)
        if server.active_requests:
            LOG.warning("%d requests still running at shutdown", server.active_requests)
    engine.close()
    LOG.info("stopped")
    return 0
