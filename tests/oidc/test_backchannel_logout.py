"""OpenID Connect Back-Channel Logout 1.0 (issue 12 item 7): apps learn of a sign-out.

The app's back-channel endpoint is a real HTTP server on this machine, started by each test; the logout token is
checked as an app must check it (§2.6): signature from the published JWKS, iss, aud, iat, the event, sid or sub,
no nonce."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet

from passgate.apps.oidc.backchannel import EVENT
from passgate.audit.services import Actor
from passgate.core.errors import InvalidInput
from passgate.directory.services import user_revoke_sign_in_sessions, user_set_enabled
from tests.oidc.conftest import ISSUER, RelyingParty, audit, b64url_json
from tests.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)  # the revocation signal is sent after the commit


class Receiver:
    """An app's back-channel logout endpoint: records each POSTed logout_token, answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.tokens: list[str] = []
        self.status = status
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                assert self.headers["Content-Type"] == "application/x-www-form-urlencoded"
                receiver.tokens += parse_qs(body).get("logout_token", [])
                self.send_response(receiver.status)
                if receiver.status in (301, 302):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.uri = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()
    found.server.server_close()


def claims_of(token: str, *, audience: str) -> dict[str, Any]:
    published = Client().get("/oidc/jwks").json()
    header = b64url_json(token, 0)
    assert header["typ"] == "logout+jwt"
    claims = dict(jwt.decode(token, KeySet.import_key_set(published), algorithms=[header["alg"]]).claims)
    assert claims["iss"] == ISSUER and claims["aud"] == audience and claims["events"] == {EVENT: {}}
    assert "nonce" not in claims and claims["exp"] > claims["iat"] and claims["jti"]
    return claims


def test_signing_out_tells_the_app_which_session_ended(make_rp: Any, browser: Client, person: Any,
                                                       receiver: Receiver) -> None:
    rp: RelyingParty = make_rp(browser, backchannel_logout_uri=receiver.uri)
    tokens = rp.tokens()
    session_id = b64url_json(tokens["id_token"], 1)["sid"]
    browser.post("/signout")
    [token] = receiver.tokens
    claims = claims_of(token, audience=rp.client_id)
    user, _ = person
    assert claims["sid"] == session_id and claims["sub"] == str(user.pk)
    [row] = audit("oidc.backchannelLogout", result="success")
    assert row.details["clientId"] == rp.client_id and row.details["sid"] is True


def test_rp_initiated_logout_tells_the_app_too(make_rp: Any, browser: Client, receiver: Receiver) -> None:
    rp: RelyingParty = make_rp(browser, backchannel_logout_uri=receiver.uri)
    tokens = rp.tokens()
    browser.get("/oidc/logout?" + urlencode({"id_token_hint": tokens["id_token"]}))
    assert len(receiver.tokens) == 1


def test_revoking_every_session_tells_every_app_without_a_session_id(make_rp: Any, browser: Client, person: Any,
                                                                     receiver: Receiver) -> None:
    wiki: RelyingParty = make_rp(browser, name="Wiki", backchannel_logout_uri=receiver.uri)
    payroll: RelyingParty = make_rp(browser, name="Payroll", backchannel_logout_uri=receiver.uri)
    quiet: RelyingParty = make_rp(browser, name="No back channel")
    for app in (wiki, payroll, quiet):
        app.tokens()
    user, _ = person
    user_revoke_sign_in_sessions(user=user, actor=Actor.system("test"))
    audiences = sorted(claims_of(t, audience=b64url_json(t, 1)["aud"])["aud"] for t in receiver.tokens)
    assert audiences == sorted([wiki.client_id, payroll.client_id])
    assert all("sid" not in b64url_json(t, 1) for t in receiver.tokens)
    receiver.tokens.clear()
    assert Client().get("/security-info").status_code == 302
    browser.get("/security-info")  # the ended session is noticed: the apps were told already, not again
    assert receiver.tokens == []


def test_disabling_the_account_tells_the_apps(make_rp: Any, browser: Client, person: Any,
                                              receiver: Receiver) -> None:
    make_rp(browser, backchannel_logout_uri=receiver.uri).tokens()
    user, _ = person
    user_set_enabled(user=user, enabled=False, actor=Actor.system("test"))
    assert len(receiver.tokens) == 1


@pytest.mark.parametrize(("status", "reason"), [(500, "http_500"), (302, "http_302"), (404, "http_404")])
def test_an_app_that_does_not_confirm_is_audited_with_why(make_rp: Any, browser: Client, receiver: Receiver,
                                                          status: int, reason: str) -> None:
    receiver.status = status
    make_rp(browser, backchannel_logout_uri=receiver.uri).tokens()
    assert browser.post("/signout").status_code == 302  # the sign-out itself never fails for an app
    assert len(receiver.tokens) == 1  # once: a redirect is not followed
    assert [e.reason for e in audit("oidc.backchannelLogout", result="failure")] == [reason]


def test_an_unreachable_app_is_audited_and_the_sign_out_goes_on(make_rp: Any, browser: Client) -> None:
    make_rp(browser, backchannel_logout_uri=f"http://127.0.0.1:{free_port()}/gone").tokens()
    assert browser.post("/signout").status_code == 302
    assert Client().get("/security-info").status_code == 302
    assert [e.reason for e in audit("oidc.backchannelLogout", result="failure")] == ["unreachable"]


def test_apps_without_a_back_channel_uri_get_nothing(rp: RelyingParty, receiver: Receiver) -> None:
    rp.tokens()
    rp.browser.post("/signout")
    assert receiver.tokens == [] and audit("oidc.backchannelLogout") == []


@pytest.mark.parametrize("uri", ["http://wiki.contoso.test/logout", "https://wiki.contoso.test/logout#x",
                                 "javascript:alert(1)", "file:///etc/passwd"])
def test_a_back_channel_uri_must_be_https_or_loopback(make_rp: Any, uri: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        make_rp(backchannel_logout_uri=uri)
    assert "Back-channel logout URI" in refused.value.message


def test_discovery_says_so(client: Client) -> None:
    found = client.get("/.well-known/openid-configuration").json()
    assert found["backchannel_logout_supported"] is True and found["backchannel_logout_session_supported"] is True
