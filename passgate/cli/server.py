"""``passgate serve``'s HTTP server: gunicorn, one master process forking sync worker processes.

What the master opens stays in the master. It migrates and bootstraps before forking, so it holds a database
connection (kept open: ``CONN_MAX_AGE``); a forked worker would inherit the same socket, and workers talking over
one socket to one PostgreSQL backend get each other's results. So:

- the master closes every database connection and cache client before each fork (gunicorn's ``pre_fork`` hook,
  which also covers workers re-spawned later), and once more before gunicorn starts;
- each new worker checks that it inherited no open connection (``post_fork``). Should one ever be there, it is
  detached without a word to the server (its socket first pointed at /dev/null, so closing it cannot end the
  parent's session), logged as the bug it is, and the worker opens its own.

Per-process caches need nothing: the signing keys (``apps.keys``), the parsed policies (``credentials``,
``access``) and the metadata snapshot (``trust_store``) hold immutable values keyed by the database row they came
from, re-checked on every read, and their locks are never held while the single-threaded master forks.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from django.core.cache import caches
from django.db import connections
from gunicorn.app.base import BaseApplication
from gunicorn.workers.sync import SyncWorker

from passgate.config.wsgi import application

log = logging.getLogger(__name__)

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


def _post_fork(server: Any, worker: Any) -> None:
    inherited = detach_inherited_connections()
    if inherited:
        server.log.error("worker %s inherited open database connections %s from the master; detached them",
                         worker.pid, inherited)
    caches.close_all()


class PassgateWorker(SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker."""


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
        self.cfg.set("accesslog", "-")
        self.cfg.set("limit_request_line", 8190)
        self.cfg.set("timeout", 60)

    def load(self) -> Any:
        return application


def serve(host: str, port: int, workers: int) -> None:
    """Run gunicorn until it is stopped (SIGTERM: graceful; SIGINT: at once)."""
    close_process_resources()
    _App(host, port, workers).run()
