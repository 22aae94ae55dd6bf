"""``passgate serve``'s HTTP server: gunicorn, one master process forking sync worker processes.

What the master opens stays in the master. It migrates and bootstraps before forking, so it holds a database
connection (kept open: ``CONN_MAX_AGE``); a forked worker would inherit the same socket, and workers talking over
one socket to one PostgreSQL backend get each other's results. So:

- the master closes every database connection and cache client before each fork (gunicorn's ``pre_fork`` hook,
  which also covers workers re-spawned later), and once more before gunicorn starts;
- each new worker checks that it inherited no open connection (``post_fork``). Should one ever be there, it is
  detached without a word to the server (its socket first pointed at /dev/null, so closing it cannot end the
  parent's session), logged as the bug it is, and the worker opens its own.

Requests gunicorn refuses before Passgate sees them (a request line over 8190 bytes, headers over 100 fields or
8190 bytes each, malformed HTTP) get Passgate's answers, not gunicorn's HTML: Graph's JSON error envelope under
``/v1.0`` and ``/beta`` (414, 431 or 400 ``BadRequest``), a plain page elsewhere. The worker peeks at the start
of each request (without consuming it) to know which.

SIGTERM stops gunicorn gracefully (workers finish their request), SIGINT at once. ``passgate demo-app``'s small
server (``demo_server``) stops on either within a poll interval, even with requests in flight.

Per-process caches need nothing: the signing keys (``apps.keys``), the parsed policies (``credentials``,
``access``) and the metadata snapshot (``trust_store``) hold immutable values keyed by the database row they came
from, re-checked on every read, and their locks are never held while the single-threaded master forks.
"""

from __future__ import annotations

import html
import json
import os
import signal
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.core.cache import caches
from django.db import connections
from gunicorn.app.base import BaseApplication
from gunicorn.http import errors as http_errors
from gunicorn.util import write_nonblock
from gunicorn.workers.sync import SyncWorker
from prometheus_client import multiprocess

from passgate.config.wsgi import application
from passgate.core.graph.errors import GraphCode, envelope
from passgate.graph_api.registry import VERSIONS
from passgate.web.security_headers import answer_headers

MAX_REQUEST_LINE = 8190  # bytes: gunicorn's own ceiling
MAX_HEADER_FIELDS = 100
MAX_HEADER_FIELD = 8190  # bytes
HEAD_BYTES = 512  # peeked at the start of a request: enough for the method and the start of the target
DRAIN_BYTES = 256 * 1024  # read and dropped after a refusal, so that closing does not reset the connection,
DRAIN_SECONDS = 2.0  # for at most this long

_abandoned: list[Any] = []  # inherited embedded-database handles: never used, never closed in this process


def close_process_resources() -> None:
    """Close every database connection and cache client this process opened (the master, before it forks)."""
    connections.close_all()
    caches.close_all()


def detach_inherited_connections() -> list[str]:
    """In a process just forked: make every database connection the parent left open unusable here, without ending
    the parent's session, so that this process opens its own. The aliases that were open (there should be none)."""
    found = []
    for conn in connections.all(initialized_only=True):
        raw = conn.connection
        if raw is None:
            continue
        found.append(conn.alias)
        fileno = getattr(raw, "fileno", None)
        if callable(fileno):  # a client/server database: closing it here must say goodbye to nobody
            devnull = os.open(os.devnull, os.O_RDWR)
            try:
                os.dup2(devnull, fileno())
            finally:
                os.close(devnull)
            conn.close()
        else:  # an embedded database (SQLite): the parent's handle is neither used nor closed here
            _abandoned.append(raw)
            conn.connection = None
    return found


def _pre_fork(server: Any, worker: Any) -> None:
    close_process_resources()


def _child_exit(server: Any, worker: Any) -> None:
    """A worker ended: drop its live-gauge files (its counters stay in the sums; prometheus_client)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def _post_fork(server: Any, worker: Any) -> None:
    inherited = detach_inherited_connections()
    if inherited:
        server.log.error("worker %s inherited open database connections %s from the master; detached them",
                         worker.pid, inherited)
    caches.close_all()


def graph_target(head: bytes) -> bool:
    """Whether a request that starts with ``head`` ("GET /v1.0/users HTTP/1.1...") is for the Graph API."""
    parts = head.split(b"\r\n", 1)[0].split(b" ", 2)
    if len(parts) < 2:
        return False
    target = parts[1].decode("latin-1")
    if target.startswith(("http://", "https://")):  # absolute form
        target = urlsplit(target).path
    return any(target == f"/{v}" or target.startswith((f"/{v}/", f"/{v}?")) for v in VERSIONS)


_GUNICORN_REFUSALS: list[tuple[type[Exception], int, str, str]] = [
    (http_errors.LimitRequestLine, 414, "URI Too Long",
     f"The request URL is too long: the request line may be at most {MAX_REQUEST_LINE} bytes."),
    (http_errors.LimitRequestHeaders, 431, "Request Header Fields Too Large",
     f"The request headers are too large: at most {MAX_HEADER_FIELDS} fields of {MAX_HEADER_FIELD} bytes each."),
    (http_errors.UnsupportedTransferCoding, 501, "Not Implemented",
     "The request's Transfer-Encoding is not supported."),
    (http_errors.ForbiddenProxyRequest, 403, "Forbidden", "The request is forbidden."),
    (http_errors.ConfigurationProblem, 500, "Internal Server Error", "An unspecified error has occurred."),
    (http_errors.ParseException, 400, "Bad Request", "The request is not valid HTTP/1.1."),
]


def refusal_for(exc: BaseException) -> tuple[int, str, str] | None:
    """(status, reason, message) for a request gunicorn could not read; None for any other failure."""
    for kind, status, reason, message in _GUNICORN_REFUSALS:
        if isinstance(exc, kind):
            return status, reason, message
    return None


def refusal_response(status: int, reason: str, message: str, *, graph: bool) -> bytes:
    """A complete HTTP/1.1 response that closes the connection: Graph's error envelope, or a plain page."""
    headers = {"Connection": "close", **answer_headers(page=not graph)}
    if graph:
        request_id = str(uuid.uuid4())
        code = GraphCode.GENERAL_EXCEPTION if status >= 500 else GraphCode.BAD_REQUEST
        body = json.dumps(envelope(code, message, date=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                                   request_id=request_id, client_request_id=request_id)).encode()
        headers |= {"Content-Type": "application/json", "request-id": request_id, "client-request-id": request_id}
    else:
        title = html.escape(reason)
        body = (f'<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{title} · Passgate</title>'
                f"</head>\n<body>\n<h1>{title}</h1>\n<p>{html.escape(message)}</p>\n</body>\n</html>\n").encode()
        headers["Content-Type"] = "text/html; charset=utf-8"
    headers["Content-Length"] = str(len(body))
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("latin-1") + body


class PassgateWorker(SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker, answering the requests gunicorn refuses in Passgate's words (see the module)."""

    head = b""

    def init_signals(self) -> None:
        super().init_signals()
        # From here a stop signal reaches this worker; one sent while it was still booting (between the fork and
        # this point) is lost, and gunicorn then kills it only after graceful_timeout. Operators and tests can wait
        # for this line before stopping a freshly started server.
        self.log.info("Worker ready (pid: %s)", self.pid)

    def handle(self, listener: Any, client: socket.socket, addr: Any) -> None:
        try:
            self.head = client.recv(HEAD_BYTES, socket.MSG_PEEK)
        except OSError:  # the connection is already gone: gunicorn's handling says so
            self.head = b""
        super().handle(listener, client, addr)

    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        refusal = refusal_for(exc)
        if refusal is None:
            self.log.exception("Error handling request %s", getattr(req, "uri", "(no URI read)"))
            refusal = (500, "Internal Server Error", "An unspecified error has occurred.")
        else:
            self.log.warning("Invalid request from ip=%s: %s", (addr or ("",))[0], exc)
        path = getattr(req, "path", None)
        graph = graph_target(b"GET " + path.encode("latin-1", "replace") if isinstance(path, str) else self.head)
        try:
            write_nonblock(client, refusal_response(*refusal, graph=graph))
            client.shutdown(socket.SHUT_WR)
            _drain(client)
        except OSError:
            self.log.debug("Failed to send error message.")


def _drain(client: socket.socket) -> None:
    """Read what the client still sends, bounded in bytes and in time: closing a socket with unread data resets the
    connection, and the client could lose the answer."""
    deadline = time.monotonic() + DRAIN_SECONDS
    left = DRAIN_BYTES
    while left > 0:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        client.settimeout(remaining)
        chunk = client.recv(min(left, 65536))
        if not chunk:
            return
        left -= len(chunk)


class _App(BaseApplication):  # type: ignore[misc]
    def __init__(self, host: str, port: int, workers: int) -> None:
        self.host, self.port, self.workers = host, port, workers
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", f"{self.host}:{self.port}")
        self.cfg.set("workers", self.workers)
        self.cfg.set("worker_class", PassgateWorker)
        self.cfg.set("pre_fork", _pre_fork)
        self.cfg.set("post_fork", _post_fork)
        self.cfg.set("child_exit", _child_exit)
        self.cfg.set("accesslog", None)  # Passgate logs each request itself, without the query string (audit.logs)
        # gunicorn believes X-Forwarded-Proto (and SCRIPT_NAME/PATH_INFO headers) from 127.0.0.1 by default:
        # nobody's, here; Passgate reads forwarding headers from PASSGATE_TRUSTED_PROXIES only (config/proxy.py).
        self.cfg.set("forwarded_allow_ips", "")
        self.cfg.set("forwarder_headers", "")
        self.cfg.set("limit_request_line", MAX_REQUEST_LINE)
        self.cfg.set("limit_request_fields", MAX_HEADER_FIELDS)
        self.cfg.set("limit_request_field_size", MAX_HEADER_FIELD)
        self.cfg.set("timeout", 60)

    def load(self) -> Any:
        return application


def serve(host: str, port: int, workers: int) -> None:
    """Run gunicorn until it is stopped (SIGTERM: graceful; SIGINT: at once)."""
    close_process_resources()
    _App(host, port, workers).run()


# --- the demo app's server -------------------------------------------------------------------------------------

class _DemoServer(ThreadingMixIn, WSGIServer):
    """One thread per request, so a slow request never holds up the accept loop or a shutdown."""

    daemon_threads = True  # a request still in flight does not keep the process alive once it stops
    block_on_close = False


class _DemoRequestHandler(WSGIRequestHandler):
    def log_message(self, format: str, *values: Any) -> None:
        print(f"demo-app: {self.command} {self.path.split('?')[0]} {values[1] if len(values) > 1 else ''}",
              flush=True)


def demo_server(host: str, port: int, app: Any) -> WSGIServer:
    server: WSGIServer = make_server(host, port, app, server_class=_DemoServer, handler_class=_DemoRequestHandler)
    return server


def serve_until_stopped(server: WSGIServer, *, poll_interval: float = 0.2) -> None:
    """Serve until SIGTERM or SIGINT, then close the listening socket. The signal only asks the serving loop to
    stop (from a helper thread: ``shutdown`` waits for the loop), so no request handler can swallow it."""

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, name="demo-app-shutdown", daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with server:
            server.serve_forever(poll_interval=poll_interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
