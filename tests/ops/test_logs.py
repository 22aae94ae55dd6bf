"""Structured logs: one JSON line per request and per security event, with the request's id (also on the audit
row and in Graph's request-id), the person's object id, the app and the reason code; never a pass, code, token,
challenge or query string."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from passgate.audit.logs import JsonFormatter, events_enabled
from passgate.audit.models import AuditEvent
from tests.oidc.conftest import RelyingParty
from tests.services.support import authenticator_for, challenge_of, register

pytestmark = pytest.mark.django_db(transaction=True)  # security events are logged when their row commits


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.text: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.text.append(self.format(record))

    def of(self, event: str) -> list[dict[str, Any]]:
        return [line for line in map(json.loads, self.text) if line["event"] == event]

    def clear(self) -> None:
        self.text.clear()


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("passgate.events")
    events_enabled(True)  # a CLI command run in this process turns them off (passgate.cli.main)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def test_a_request_is_one_line_without_its_query_string(client: Client, lines: Lines) -> None:
    client.get("/signin?next=/oidc/logout%3Fid_token_hint%3DeyJhbGciOi.secret", HTTP_USER_AGENT="UA")
    [line] = lines.of("request")
    assert line["method"] == "GET" and line["path"] == "/signin" and line["status"] == 200
    assert len(line["requestId"]) == 36 and line["clientIp"] == "127.0.0.1" and "userId" not in line
    assert "eyJ" not in "".join(lines.text) and "secret" not in "".join(lines.text)


def test_probes_are_quiet_unless_they_fail(client: Client, lines: Lines) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 404  # no token configured
    assert [line["path"] for line in lines.of("request")] == ["/metrics"]


def test_a_refused_pass_logs_the_event_with_the_request_id_stored_on_its_audit_row(
        client: Client, lines: Lines, make_user: Any, issue_tap: Any) -> None:
    user = make_user(upn="kim@contoso.com")
    issue_tap(user)
    lines.clear()
    client.post("/signin/tap", {"upn": user.user_principal_name, "tap": "Guessed-Pass-9876"})
    [request] = lines.of("request")
    [event] = [e for e in lines.of("audit") if e["activity"] == "tap.signIn"]
    assert event == {"event": "audit", "requestId": request["requestId"], "category": "signIn",
                     "activity": "tap.signIn", "result": "failure", "reason": "tap_invalid",
                     "userId": str(user.pk), "clientIp": "127.0.0.1",
                     "time": event["time"], "level": "INFO", "logger": "passgate.events"}
    row = AuditEvent.objects.get(activity="tap.signIn")
    assert row.request_id == request["requestId"]
    assert "Guessed-Pass-9876" not in "".join(lines.text)


def test_a_passkey_sign_in_logs_no_challenge_and_names_the_person(client: Client, lines: Lines,
                                                                  make_user: Any) -> None:
    user = make_user(upn="pat@contoso.com")
    auth = authenticator_for(user, sign_count=1)
    register(user, auth)
    options = client.post("/signin/passkey/options", data="{}", content_type="application/json").json()
    auth.sign_count += 1
    credential = auth.assert_(challenge=challenge_of(options))
    assert client.post("/signin/passkey/verify", data=json.dumps({"credential": credential}),
                       content_type="application/json").status_code == 200
    verify = lines.of("request")[-1]
    assert verify["path"] == "/signin/passkey/verify" and verify["userId"] == str(user.pk)
    [event] = [e for e in lines.of("audit") if e["activity"] == "passkey.signIn"]
    assert event["result"] == "success" and event["userId"] == str(user.pk)
    assert event["requestId"] == verify["requestId"]
    text = "".join(lines.text)
    issued = options.get("publicKey", options)["challenge"]  # base64url, as sent
    assert issued not in text and credential["response"]["signature"] not in text


def test_tokens_and_codes_never_reach_the_log_and_the_app_is_named(rp: RelyingParty, lines: Lines) -> None:
    code = rp.code()
    answer = rp.redeem(code)
    assert answer.status_code == 200, answer.content
    tokens = answer.json()
    text = "".join(lines.text)
    for secret in (code, tokens["access_token"], tokens["id_token"], rp.secret, rp.verifier):
        assert secret not in text
    issued = [e for e in lines.of("audit") if e["activity"] == "oidc.token"]
    assert [(e["result"], e["app"]) for e in issued] == [("success", str(rp.app.app_id))]
    signins = lines.of("signIn")
    assert signins and signins[-1]["app"] == str(rp.app.app_id) and signins[-1]["result"] == "success"


def test_graph_answers_with_the_logged_request_id(client: Client, lines: Lines) -> None:
    answer = client.get("/v1.0/users", HTTP_CLIENT_REQUEST_ID="mine-123")
    assert answer.status_code == 401
    [line] = lines.of("request")
    assert answer["request-id"] == line["requestId"] and answer["client-request-id"] == "mine-123"


def test_other_records_become_json_lines_too() -> None:
    record = logging.LogRecord("passgate.x", logging.WARNING, __file__, 1, "hello %s", ("there",), None)
    assert json.loads(JsonFormatter().format(record))["message"] == "hello there"


def test_a_client_credentials_secret_is_never_logged(client: Client, lines: Lines) -> None:
    from passgate.apps.services import app_create
    from passgate.audit.services import Actor

    app, secret = app_create(display_name="Script", permissions=("User.Read.All",), actor=Actor.system("t"))
    form = {"grant_type": "client_credentials", "client_id": str(app.app_id), "client_secret": secret,
            "scope": "https://graph.microsoft.com/.default"}
    answer = client.post("/oauth2/v2.0/token", data=urlencode(form), content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200
    text = "".join(lines.text)
    assert secret not in text and answer.json()["access_token"] not in text
    assert [e["app"] for e in lines.of("audit") if e["activity"] == "token.issue"] == [str(app.app_id)]
