"""The agent's HTTP client for Passgate's device API, on the standard library (``urllib.request``).

Every request but the join carries a device proof (``Authorization: PassgateDevice <proof>``) made with
``passgate.core.devices.proof.sign_proof`` for exactly that method, URL and body, with a fresh ``jti`` and the
current time. Requests time out (10 s by default), redirects are not followed (a proof is bound to its URL), and
Passgate's ``{"error", "error_description"}`` becomes an :class:`AgentError` with that code and description.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec

from passgate.agent.errors import AgentError, Unreachable
from passgate.core.devices.proof import SCHEME, ProofRequest, sign_proof

DEFAULT_TIMEOUT = 10.0
MAX_ANSWER_BYTES = 1024 * 1024
USER_AGENT = "passgate-device/1"
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def normalise_origin(given: str) -> str:
    """``https://host[:port]`` without a path; plain http only for this computer itself (tests, development)."""
    text = given.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.path or parts.query or parts.fragment \
            or parts.username or parts.password:
        raise AgentError("bad_origin", f"{given!r} is not an origin: give Passgate's address as "
                         "https://id.example.com (no path).")
    if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        raise AgentError("bad_origin", f"{given!r} is plain http: Passgate must be reached over https (http only "
                         "for localhost).")
    return f"{parts.scheme}://{parts.netloc}".lower()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any,  # noqa: PLR0917 - urllib's
                         newurl: str) -> None:
        return None  # the 3xx answer is then raised as an HTTPError


_OPENER = urllib.request.build_opener(_NoRedirects())


class PassgateClient:
    """Requests to one Passgate. ``key`` and ``device_id`` sign them; without them only unsigned calls work."""

    def __init__(self, origin: str, *, key: ec.EllipticCurvePrivateKey | None = None, device_id: str = "",
                 timeout: float = DEFAULT_TIMEOUT, clock: Callable[[], float] = time.time) -> None:
        self.origin = normalise_origin(origin)
        self.key = key
        self.device_id = device_id
        self.timeout = timeout
        self.clock = clock

    def proof(self, method: str, path: str, body: bytes) -> str:
        if self.key is None or not self.device_id:
            raise AgentError("not_joined", "This computer is not joined to Passgate: run passgate-device join.")
        request = ProofRequest(audience=self.origin, method=method, url=self.origin + path, body=body)
        return sign_proof(self.key, device_id=self.device_id, request=request, now=int(self.clock()),
                          jti=secrets.token_urlsafe(24))

    def call(self, method: str, path: str, body: object = None, *, signed: bool = True) -> dict[str, Any]:
        """``method path`` with ``body`` as JSON; Passgate's JSON answer, or AgentError / Unreachable."""
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if signed:
            headers["Authorization"] = f"{SCHEME} {self.proof(method, path, data)}"
        url = self.origin + path  # normalise_origin() let only http(s) through
        request = urllib.request.Request(url, data=data if body is not None else None,  # noqa: S310
                                         headers=headers, method=method)
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read(MAX_ANSWER_BYTES + 1)
            exc.close()
        except TimeoutError:
            raise Unreachable(f"Passgate at {self.origin} did not answer within {self.timeout:g} seconds.") from None
        except urllib.error.URLError as exc:
            raise Unreachable(f"Cannot reach Passgate at {self.origin}: {_reason(exc.reason)}.") from None
        except (OSError, ValueError) as exc:  # a reset connection, a broken TLS session, a bad status line
            raise Unreachable(f"Cannot reach Passgate at {self.origin}: {_reason(exc)}.") from None
        return _answer(self.origin, method, path, status, raw)


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


def _answer(origin: str, method: str, path: str, status: int, raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_ANSWER_BYTES:
        raise AgentError("bad_answer", f"Passgate's answer to {method} {path} is larger than "
                         f"{MAX_ANSWER_BYTES} bytes.")
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, UnicodeDecodeError):
        data = None
    if 200 <= status < 300:
        if not isinstance(data, dict):
            raise AgentError("bad_answer", f"Passgate's answer to {method} {path} is not a JSON object: is "
                             f"{origin} a Passgate?")
        return data
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        description = data.get("error_description")
        text = description if isinstance(description, str) and description else data["error"]
        raise AgentError(data["error"], f"Passgate refused: {text} ({data['error']}, HTTP {status}).")
    if 300 <= status < 400:
        raise AgentError("bad_answer", f"Passgate at {origin} redirected {method} {path} (HTTP {status}): give "
                         "the origin it answers on.")
    raise AgentError("bad_answer", f"Passgate answered HTTP {status} to {method} {path} without a reason: is "
                     f"{origin} a Passgate?")
