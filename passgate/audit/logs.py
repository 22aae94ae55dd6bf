"""Structured logs: one JSON line per request (``passgate.config.request_log``) and per security event (every
audit row and sign-in event, once committed), on the ``passgate.events`` logger.

Each line carries the request's id (also stored on the audit row, and Graph's ``request-id``), so a log line, an
audit row and a client's error report meet. Lines hold ids, codes and outcomes only: never a pass, code, token,
challenge, secret, query string or the audit row's details. The fields are chosen here, not by callers.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

EVENTS = logging.getLogger("passgate.events")
_request_id: ContextVar[str] = ContextVar("passgate_request_id", default="")
_enabled = [True]  # off for one-off commands (passgate.cli.main): their rows are in the database


def events_enabled(on: bool) -> None:
    _enabled[0] = on


def current_request_id() -> str:
    """The id of the request being served ("" outside a request: the CLI, a timer)."""
    return _request_id.get()


def bind_request_id(request_id: str) -> Token[str]:
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str]) -> None:
    _request_id.reset(token)


def log_event(event: str, **fields: Any) -> None:
    """One JSON line: ``event``, the request id, and ``fields`` (empty values left out)."""
    if not _enabled[0]:
        return
    line = {"event": event, "requestId": current_request_id() or None,
            **{k: v for k, v in fields.items() if v not in (None, "")}}
    EVENTS.info(event, extra={"passgate_event": line})


class JsonFormatter(logging.Formatter):
    """A log record as one JSON line: time, level, logger and, for ``log_event``, its fields; otherwise the
    message (and the exception's type, never its traceback's locals)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                                "level": record.levelname, "logger": record.name}
        event = getattr(record, "passgate_event", None)
        if isinstance(event, dict):
            line.update(event)
        else:
            line["message"] = record.getMessage()
            if record.exc_info and record.exc_info[0] is not None:
                line["exception"] = record.exc_info[0].__name__
        return json.dumps(line, default=str, ensure_ascii=False)
