"""Browser sessions: key cycling, sign-out, idle and absolute limits, cookies, the recent-sign-in gate,
TAP sessions and open redirects."""

from __future__ import annotations

import runpy
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

import passgate.config.settings as settings_module
from passgate.audit.models import AuditEvent
from passgate.credentials.models import Passkey
from tests.http.conftest import (
    SESSION_COOKIE,
    edit_session,
    http_sign_in,
    http_tap_sign_in,
    post_json,
    session_key,
)
from tests.services.support import authenticator_for, challenge_of

pytestmark = pytest.mark.django_db

IDLE_NOTICE = "You were signed out after a period of inactivity."
LIFETIME_NOTICE = "Your session reached its maximum lifetime. Sign in again."
SIGNED_OUT_NOTICE = "You have signed out."


def ago(**delta: float) -> str:
    return (timezone.now() - timedelta(**delta)).isoformat()


def is_signed_in(client: Client) -> bool:
    response = client.get("/security-info")
    return response.status_code == 200


# --- session key cycling and sign-out --------------------------------------------------------------

def test_passkey_sign_in_cycles_the_session_key(client: Client, enrolled: Any) -> None:
    _user, auth, _passkey = enrolled
    post_json(client, "/signin/passkey/options", {})
    anonymous_key = session_key(client)
    assert anonymous_key and Session.objects.filter(session_key=anonymous_key).exists()

    auth.sign_count += 1
    options = post_json(client, "/signin/passkey/options", {})
    assert session_key(client) == anonymous_key  # the challenge is bound to this anonymous session
    response = post_json(client, "/signin/passkey/verify",
                         {"credential": auth.assert_(challenge=challenge_of(options.json()))})
    assert response.status_code == 200
    signed_in_key = session_key(client)
    assert signed_in_key and signed_in_key != anonymous_key
    assert not Session.objects.filter(session_key=anonymous_key).exists()
    assert Session.objects.get(session_key=signed_in_key).get_decoded()["pg_method"] == "passkey"
    assert is_signed_in(client)


def test_tap_sign_in_cycles_the_session_key(client: Client, make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    plain = issue_tap(user)
    edit_session(client, planted="by an attacker")  # a session fixed before sign-in
    planted = session_key(client)
    assert planted
    response = http_tap_sign_in(client, user.user_principal_name, plain)
    assert response.status_code == 302 and response["Location"] == "/security-info"
    assert session_key(client) != planted
    assert not Session.objects.filter(session_key=planted).exists()
    victim = Client()
    victim.cookies[SESSION_COOKIE] = planted
    assert not is_signed_in(victim)


def test_reauthentication_cycles_the_session_key(signed_in: Any) -> None:
    client, _user, auth, _passkey = signed_in
    before = session_key(client)
    options = post_json(client, "/signin/reauth/options", {}).json()
    auth.sign_count += 1
    response = post_json(client, "/signin/reauth/verify", {"credential": auth.assert_(challenge=challenge_of(options))})
    assert response.status_code == 200 and response.json() == {"redirect": "/security-info"}
    assert session_key(client) != before
    assert not Session.objects.filter(session_key=before).exists()


def test_sign_out_deletes_the_server_side_session(signed_in: Any) -> None:
    client, user, _auth, _passkey = signed_in
    old_key = session_key(client)
    assert Session.objects.filter(session_key=old_key).exists()
    response = client.post("/signout")
    assert response.status_code == 302 and response["Location"] == "/signin"
    assert not Session.objects.filter(session_key=old_key).exists()
    assert AuditEvent.objects.filter(activity="signOut", actor_id=user.pk).count() == 1

    page = client.get("/signin")
    assert SIGNED_OUT_NOTICE in page.content.decode()

    # Someone who kept a copy of the old cookie is not signed in.
    stale = Client()
    stale.cookies[SESSION_COOKIE] = old_key
    response = stale.get("/security-info")
    assert response.status_code == 302 and response["Location"].startswith("/signin")


# --- idle timeout and absolute lifetime ----------------------------------------------------------

def test_idle_timeout_signs_out_with_a_notice(signed_in: Any, settings: Any) -> None:
    client = signed_in[0]
    idle = settings.PASSGATE.session_idle_minutes
    edit_session(client, pg_last_seen=ago(minutes=idle - 1))
    assert is_signed_in(client)
    edit_session(client, pg_last_seen=ago(minutes=idle, seconds=1))
    old_key = session_key(client)
    response = client.get("/security-info")
    assert response.status_code == 302 and response["Location"].startswith("/signin")
    assert not Session.objects.filter(session_key=old_key).exists()
    page = client.get("/signin")
    assert page.status_code == 200
    assert IDLE_NOTICE in page.content.decode()
    assert LIFETIME_NOTICE not in page.content.decode()
    assert not is_signed_in(client)


def test_absolute_lifetime_signs_out_with_a_notice(signed_in: Any, settings: Any) -> None:
    client = signed_in[0]
    hours = settings.PASSGATE.session_max_hours
    edit_session(client, pg_auth_time=ago(hours=hours, seconds=1), pg_last_seen=ago(seconds=5))
    response = client.get("/security-info")
    assert response.status_code == 302
    page = client.get("/signin").content.decode()
    assert LIFETIME_NOTICE in page and IDLE_NOTICE not in page
    assert not is_signed_in(client)


def test_limits_also_apply_to_json_endpoints(signed_in: Any, settings: Any) -> None:
    client = signed_in[0]
    edit_session(client, pg_last_seen=ago(minutes=settings.PASSGATE.session_idle_minutes + 1))
    response = post_json(client, "/security-info/passkeys/options", {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_signed_in"


def test_disabling_a_user_ends_their_session(signed_in: Any) -> None:
    from passgate.audit.services import Actor
    from passgate.directory.services import user_set_enabled

    client, user, _auth, _passkey = signed_in
    user_set_enabled(user=user, enabled=False, actor=Actor.system("test"))
    assert not is_signed_in(client)
    assert post_json(client, "/security-info/passkeys/options", {}).status_code == 401


def test_session_without_timestamps_is_ended(signed_in: Any) -> None:
    client = signed_in[0]
    session = client.session
    del session["pg_auth_time"]
    session.save()
    assert not is_signed_in(client)


def test_activity_refreshes_last_seen(signed_in: Any, settings: Any) -> None:
    client = signed_in[0]
    idle = settings.PASSGATE.session_idle_minutes
    edit_session(client, pg_last_seen=ago(minutes=idle - 1))
    assert is_signed_in(client)
    last_seen = client.session["pg_last_seen"]
    assert timezone.now() - datetime.fromisoformat(last_seen) < timedelta(minutes=1)


# --- cookies ------------------------------------------------------------------------------------------

def test_session_cookie_is_httponly_and_samesite_lax(client: Client, enrolled: Any) -> None:
    response = http_sign_in(client, enrolled[1])
    cookie = response.cookies[SESSION_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/"


def test_session_cookie_is_secure_when_configured_for_https(client: Client, enrolled: Any, settings: Any) -> None:
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    response = http_sign_in(client, enrolled[1])
    assert response.cookies[SESSION_COOKIE]["secure"] is True


@pytest.mark.parametrize(("origin", "secure"), [("https://login.example.com", True),
                                                ("http://localhost:8000", False)])
def test_cookie_security_follows_the_origin(monkeypatch: Any, tmp_path: Path, origin: str, secure: bool) -> None:
    """settings.py derives Secure cookies from PASSGATE_ORIGIN (evaluated afresh, not the loaded module)."""
    monkeypatch.setenv("PASSGATE_ORIGIN", origin)
    monkeypatch.setenv("PASSGATE_DATA_DIR", str(tmp_path))
    for name in ("PASSGATE_RP_ID", "PASSGATE_EXTRA_ORIGINS", "PASSGATE_DATABASE_URL", "PASSGATE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    fresh = runpy.run_path(settings_module.__file__)
    assert fresh["SESSION_COOKIE_SECURE"] is secure
    assert fresh["CSRF_COOKIE_SECURE"] is secure
    assert fresh["SESSION_COOKIE_HTTPONLY"] is True
    assert fresh["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert fresh["SESSION_ENGINE"] == "passgate.web.session_store"  # the database, written once per request


# --- the recent sign-in gate ----------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/security-info/passkeys/options", "/security-info/passkeys/verify"])
def test_registration_needs_a_recent_sign_in(signed_in: Any, url: str) -> None:
    client = signed_in[0]
    edit_session(client, pg_auth_time=ago(minutes=11), pg_last_seen=ago(seconds=1))
    before = Passkey.objects.count()
    response = post_json(client, url, {"credential": {}, "name": "x"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "reauthentication_required"
    assert response.json()["error"]["message"]
    assert Passkey.objects.count() == before
    # Nine minutes is still recent.
    edit_session(client, pg_auth_time=ago(minutes=9))
    assert post_json(client, "/security-info/passkeys/options", {}).status_code == 200


def test_security_info_page_offers_reauth_when_not_recent(signed_in: Any) -> None:
    client = signed_in[0]
    edit_session(client, pg_auth_time=ago(minutes=11), pg_last_seen=ago(seconds=1))
    page = client.get("/security-info").content.decode()
    assert 'href="/signin/reauth?next=/security-info"' in page
    assert 'id="add-passkey-form"' not in page


def test_delete_page_redirects_to_reauth_when_not_recent(signed_in: Any) -> None:
    client, _user, _auth, passkey = signed_in
    edit_session(client, pg_auth_time=ago(minutes=11), pg_last_seen=ago(seconds=1))
    url = f"/security-info/passkeys/{passkey.pk}/delete"
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302
        assert response["Location"] == "/signin/reauth?next=" + quote(url, safe="")
    assert Passkey.objects.filter(pk=passkey.pk).exists()
    assert client.get(response["Location"]).status_code == 200


def test_delete_works_when_recent_and_only_for_own_passkeys(signed_in: Any, make_user: Any) -> None:
    from tests.services.support import register

    client, _user, _auth, passkey = signed_in
    other = make_user()
    foreign = register(other, authenticator_for(other))
    assert client.get(f"/security-info/passkeys/{foreign.pk}/delete").status_code == 404
    assert client.post(f"/security-info/passkeys/{foreign.pk}/delete").status_code == 404
    url = f"/security-info/passkeys/{passkey.pk}/delete"
    page = client.get(url)
    assert page.status_code == 200 and "last sign-in method" in page.content.decode()
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == "/security-info"
    assert not Passkey.objects.filter(pk=passkey.pk).exists()
    assert Passkey.objects.filter(pk=foreign.pk).exists()
    assert AuditEvent.objects.filter(activity="passkey.delete", result="success").count() == 1


# --- Temporary Access Pass sessions ---------------------------------------------------------------

def test_tap_session_reaches_security_info_and_can_add_a_passkey(client: Client, make_user: Any,
                                                                 issue_tap: Any) -> None:
    user = make_user(upn="fresh@contoso.com")
    response = http_tap_sign_in(client, "fresh@contoso.com", issue_tap(user))
    assert response.status_code == 302 and response["Location"] == "/security-info"
    page = client.get("/security-info")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Temporary Access Pass" in text and "fresh@contoso.com" in text
    assert client.session["pg_method"] == "tap"

    options = post_json(client, "/security-info/passkeys/options", {})
    assert options.status_code == 200
    auth = authenticator_for(user)
    response = post_json(client, "/security-info/passkeys/verify",
                         {"credential": auth.register(challenge=challenge_of(options.json())), "name": "Phone"})
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Phone" and response.json()["redirect"] == "/security-info"
    passkey = Passkey.objects.get(user=user)
    assert passkey.display_name == "Phone"
    assert "Passkey “Phone” added." in client.get("/security-info").content.decode()


# --- open redirects --------------------------------------------------------------------------------

EVIL = ["https://evil.example", "//evil.example", "https://evil.example/security-info", "///evil.example",
        "/\\evil.example", "\\\\evil.example", "javascript:alert(1)", "http://testserver.evil.example/"]


@pytest.mark.parametrize("target", EVIL)
def test_next_to_another_site_is_ignored_after_passkey_sign_in(client: Client, enrolled: Any, target: str) -> None:
    response = http_sign_in(client, enrolled[1], next_url=target)
    assert response.status_code == 200
    assert response.json() == {"redirect": "/security-info"}


def test_local_next_is_honoured(client: Client, enrolled: Any) -> None:
    response = http_sign_in(client, enrolled[1], next_url="/security-info?tab=1")
    assert response.json() == {"redirect": "/security-info?tab=1"}


@pytest.mark.parametrize("target", EVIL)
def test_next_to_another_site_is_ignored_everywhere(signed_in: Any, target: str) -> None:
    client = signed_in[0]
    response = client.get("/signin?next=" + quote(target, safe=""))
    assert response.status_code == 302 and response["Location"] == "/security-info"
    page = client.get("/signin/reauth?next=" + quote(target, safe="")).content.decode()
    assert 'data-next="/security-info"' in page
    assert "evil" not in page
    anonymous = Client()
    page = anonymous.get("/signin?next=" + quote(target, safe="")).content.decode()
    assert "evil" not in page and "javascript:" not in page


@pytest.mark.parametrize("target", EVIL)
def test_next_to_another_site_is_ignored_after_tap_reauth(client: Client, make_user: Any, issue_tap: Any,
                                                          target: str) -> None:
    user = make_user()
    plain = issue_tap(user, usable_once=False)
    assert http_tap_sign_in(client, user.user_principal_name, plain).status_code == 302
    response = client.post("/signin/reauth/tap", {"tap": plain, "next": target})
    assert response.status_code == 302 and response["Location"] == "/security-info"
