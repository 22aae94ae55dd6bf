"""The Graph API's one body parser (also DRF's default, settings.REST_FRAMEWORK)."""

from __future__ import annotations

from typing import Any

from rest_framework.parsers import BaseParser

from passgate.core.errors import InvalidInput
from passgate.core.graph.errors import UNREADABLE_JSON, GraphError
from passgate.core.text import UnusableText, strict_loads


class StrictJSONParser(BaseParser):  # type: ignore[misc]
    """JSON bodies through the core's strict loader (``core.text.strict_loads``): RFC 8259 JSON only, and no NUL
    or lone surrogate in any string or key (400 ``Request_BadRequest`` naming the property in ``error.target``)."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return strict_loads(stream.read())
        except UnusableText:
            raise
        except InvalidInput:
            raise GraphError.malformed(UNREADABLE_JSON) from None
