"""Run the serving app on waitress, a threaded production WSGI server.

MindSpore does not survive a fork after it is imported, so the server is one
process with worker threads, never a pre-fork server. Each servable's network
runs on its own batch worker thread (see ``tinyms.serving.core``).

On SIGTERM or SIGINT the server stops accepting connections, lets the requests
in flight finish (up to ``drain_timeout`` seconds), closes idle keep-alive
connections and returns. ``python -m tinyms.serving`` is the command line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tinyms.errors import TinyMSError
from tinyms.serving.core import DEFAULT_MAX_BATCH_SIZE

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "run_server", "main"]

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
_LOOP_TIMEOUT = 0.5


def _write_ready_file(path: str, host: str, port: int) -> None:
    """Write ``{"url", "pid"}`` atomically, so a reader never sees half a file."""
    target = Path(path)
    shown_host = f"[{host}]" if ":" in host else host
    data = {"url": f"http://{shown_host}:{port}", "host": host, "port": port, "pid": os.getpid()}
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".ready.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(temp, target)


def _install_stop_handlers(stop: threading.Event, wake: Any = None) -> None:
    def handle(signum: int, frame: Any) -> None:
        logger.info("Received %s; stopping", signal.Signals(signum).name)
        stop.set()
        if wake is not None:
            wake()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def _busy_channels(server: Any) -> list[Any]:
    from waitress.channel import HTTPChannel

    return [
        channel for channel in list(server._map.values())
        if isinstance(channel, HTTPChannel)
        and (channel.requests or channel.total_outbufs_len or channel.request is not None)
    ]


def _serve_waitress(app: Any, host: str, port: int, threads: int, ready_file: str | None,
                    drain_timeout: float) -> None:
    from waitress import wasyncore
    from waitress.server import create_server

    limit = app.config["MAX_CONTENT_LENGTH"]
    # NOTE: waitress rejects bodies over its own limit with a plain-text 413 before
    # Flask reads them. Its limit is set above Flask's, so the usual case gets JSON.
    server = create_server(
        app, host=host, port=port, threads=threads, ident="tinyms",
        max_request_body_size=2 * limit + 65536, clear_untrusted_proxy_headers=True,
    )
    core = app.extensions["tinyms_serving"]
    bound_port = int(server.effective_port)  # waitress reports it as a string
    stop = threading.Event()
    _install_stop_handlers(stop, server.pull_trigger)
    logger.info("Serving on http://%s:%d with %d threads (waitress)", host, bound_port, threads)
    if ready_file:
        _write_ready_file(ready_file, host, bound_port)

    # Internals of waitress 3: the socket map and the loop that server.run() wraps.
    use_poll = server.adj.asyncore_use_poll
    while not stop.is_set():
        wasyncore.loop(timeout=_LOOP_TIMEOUT, map=server._map, use_poll=use_poll, count=1)

    core.draining = True
    server.accepting = False
    wasyncore.dispatcher.close(server)  # the listening socket only; the trigger stays open
    deadline = time.monotonic() + drain_timeout
    while True:
        busy = _busy_channels(server)
        if not busy:
            break
        if time.monotonic() > deadline:
            logger.warning("Drain timed out after %.0f s; closing %d busy connections",
                           drain_timeout, len(busy))
            break
        wasyncore.loop(timeout=0.05, map=server._map, use_poll=use_poll, count=1)
    wasyncore.close_all(server._map)
    server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
    logger.info("Stopped serving on http://%s:%d", host, bound_port)


def _serve_debug(app: Any, host: str, port: int, ready_file: str | None) -> None:
    from werkzeug.serving import make_server

    app.debug = True
    server = make_server(host, port, app, threaded=True)
    stop = threading.Event()
    _install_stop_handlers(stop)
    logger.warning("Serving on http://%s:%d with Flask's development server (--debug); "
                   "do not use it in production", host, server.server_port)
    if ready_file:
        _write_ready_file(ready_file, host, server.server_port)
    worker = threading.Thread(target=server.serve_forever, name="werkzeug", daemon=True)
    worker.start()
    while not stop.wait(_LOOP_TIMEOUT):
        pass
    server.shutdown()  # waits for serve_forever to return; handler threads finish
    server.server_close()


def run_server(
    config: Any = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    threads: int = 8,
    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
    debug: bool = False,
    ready_file: str | None = None,
    drain_timeout: float = 30.0,
) -> None:
    """Load the servables and serve them in the foreground until SIGTERM or SIGINT.

    Args:
        config: A configuration path, a :class:`~tinyms.serving.config.ServingConfig`,
            or ``None`` (default) for the default location.
        host: Address to bind. Defaults to ``127.0.0.1`` (this machine only);
            ``0.0.0.0`` exposes the server on every interface.
        port: Port to bind; 0 picks a free one. Defaults to 5000.
        threads: waitress worker threads. Defaults to 8.
        max_batch_size: Largest batch of one forward pass; 1 turns batching off.
            Defaults to 16.
        debug: Use Flask's development server with debug mode instead of waitress.
        ready_file: Once the socket is bound, write ``{"url", "port", "pid"}`` as
            JSON to this file (how ``start_server`` learns a port picked by 0).
        drain_timeout: Seconds to wait for requests in flight after SIGTERM.
    """
    from tinyms.serving.app import create_app

    app = create_app(config, max_batch_size=max_batch_size)
    core = app.extensions["tinyms_serving"]
    try:
        if debug:
            _serve_debug(app, host, port, ready_file)
        else:
            _serve_waitress(app, host, port, threads, ready_file, drain_timeout)
    finally:
        core.close()


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tinyms.serving",
        description="Serve tinyms image classifiers over HTTP (REST API and a web page).",
    )
    parser.add_argument("--config", help="Servable configuration file (YAML or JSON); default: "
                        "$TINYMS_SERVING_CONFIG, else ~/.tinyms/servables.yaml")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help="Address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="Port to bind; 0 picks a free port (default: 5000)")
    parser.add_argument("--threads", type=int, default=8, help="Worker threads (default: 8)")
    parser.add_argument("--max-batch-size", type=int, default=DEFAULT_MAX_BATCH_SIZE,
                        help="Most requests one forward pass takes; 1 turns batching off "
                        f"(default: {DEFAULT_MAX_BATCH_SIZE})")
    parser.add_argument("--debug", action="store_true",
                        help="Use Flask's development server in debug mode (not for production)")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="Logging level (default: INFO)")
    parser.add_argument("--ready-file", help="Write the bound URL and the process id as JSON "
                        "to this file once the server accepts connections")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 after a clean stop)."""
    args = _parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        run_server(args.config, args.host, args.port, threads=args.threads,
                   max_batch_size=args.max_batch_size, debug=args.debug,
                   ready_file=args.ready_file)
    except (TinyMSError, OSError) as err:
        logger.error("Serving failed: %s", err)
        return 1
    return 0
