"""The demo relying party's own bad input: a callback it didn't start, a tampered session cookie, an unknown page.
Each is a clear page, never a traceback, and nothing is asked of Passgate."""

from __future__ import annotations

from typing import Any

from passgate.demo.app import COOKIE, DemoApp


class _NoNetwork:
    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the demo must not call Passgate for this")


def call(app: DemoApp, path: str, query: str = "", cookie: str = "") -> tuple[str, dict[str, str], str]:
    answer: dict[str, Any] = {}

    def start(status: str, headers: list[tuple[str, str]]) -> None:
        answer.update(status=status, headers=dict(headers))

    body = b"".join(app({"PATH_INFO": path, "QUERY_STRING": query, "HTTP_COOKIE": cookie}, start)).decode()
    return answer["status"], answer["headers"], body


def demo() -> DemoApp:
    return DemoApp(issuer="https://login.example.com", client_id="c", base_url="http://localhost:8001",
                   http=_NoNetwork())  # type: ignore[arg-type]


def test_a_callback_it_did_not_start_is_refused_for_its_state() -> None:
    status, _, body = call(demo(), "/callback", "code=abc&state=forged")
    assert status.startswith("400") and "state mismatch" in body


def test_a_tampered_session_cookie_is_no_session() -> None:
    app = demo()
    forged = f"{COOKIE}=eyJzaWduZWRfaW4iOnsiY2xhaW1zIjp7Im5hbWUiOiJNYWxsb3J5In19fQ.0000"
    status, _, body = call(app, "/", cookie=forged)
    assert status.startswith("200") and "id=login" in body  # the signed-out page
    assert "Mallory" not in body
    status, _, _ = call(app, "/", cookie="garbage;;;==")
    assert status.startswith("200")


def test_an_unknown_page_is_404() -> None:
    assert call(demo(), "/admin")[0].startswith("404")
