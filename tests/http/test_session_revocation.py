"""What ends a signed-in browser session besides time: revoking the person's sessions, disabling them, deleting a
method the session proved; and what does not (a UPN change; role changes are read at every request)."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest
from django.test import Client

from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core import totp
from passgate.credentials import oath, services
from passgate.credentials.models import Passkey, TemporaryAccessPass
from passgate.directory.models import DirectoryRole, RoleAssignment, User
from passgate.directory.services import user_revoke_sign_in_sessions, user_set_enabled, user_set_upn
from tests.http.conftest import http_sign_in, http_tap_sign_in, post_json
from tests.services.support import authenticator_for, challenge_of, register

pytestmark = pytest.mark.django_db

REVOKED_NOTICE = "You were signed out everywhere: your sessions were revoked. Sign in again."
METHOD_NOTICE = "You were signed out because a sign-in method this session used was deleted. Sign in again."
SYSTEM = Actor.system("test")


def is_signed_in(client: Client) -> bool:
    return client.get("/security-info").status_code == 200


def notice(client: Client) -> str:
    return client.get("/signin").content.decode()


def browser(auth: Any) -> Client:
    """A new browser signed in with this authenticator's passkey, over HTTP."""
    client = Client()
    assert http_sign_in(client, auth).status_code == 200
    return client


def ended(activity_reason: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(activity="session.end", result="failure", reason=activity_reason))


# --- revoking the person's sessions ----------------------------------------------------------------------------

def test_revoking_ends_every_session_of_the_person_and_they_can_sign_in_again(enrolled: Any,
                                                                              make_user: Any) -> None:
    user, auth, _passkey = enrolled
    laptop, phone = browser(auth), browser(auth)
    other = make_user()
    bystander = browser_of(other)
    user_revoke_sign_in_sessions(user=user, actor=SYSTEM)

    for client in (laptop, phone):
        assert not is_signed_in(client)
        assert REVOKED_NOTICE in notice(client)
    assert is_signed_in(bystander)  # someone else's session is untouched
    assert len(ended("sessions_revoked")) == 2
    row = AuditEvent.objects.get(activity="user.revokeSignInSessions")
    assert (row.result, row.target_id, row.details["reason"]) == ("success", str(user.pk), "revokeSignInSessions")

    again = browser(auth)  # a sign-in after the revocation is a new session
    assert is_signed_in(again)
    assert not is_signed_in(laptop)


def browser_of(user: Any) -> Client:
    return browser(_authenticator(user))


def _authenticator(user: Any) -> Any:
    auth = authenticator_for(user, sign_count=1)
    register(user, auth)
    return auth


def test_a_session_revoked_with_json_requests_gets_the_json_refusal(signed_in: Any) -> None:
    client, user, _auth, _passkey = signed_in
    user_revoke_sign_in_sessions(user=user, actor=SYSTEM)
    response = post_json(client, "/security-info/passkeys/options", {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_signed_in"


def test_a_session_of_the_very_instant_of_the_revocation_ends(signed_in: Any) -> None:
    """The boundary over HTTP: a session whose sign-in carries the revocation's own timestamp has ended."""
    client, user, _auth, _passkey = signed_in
    signed_in_at = client.session["pg_authn"]["methods"][0]["at"]
    User.objects.filter(pk=user.pk).update(sign_in_sessions_valid_from=signed_in_at)
    assert not is_signed_in(client)


def test_a_session_signed_in_just_after_the_revocation_goes_on(signed_in: Any) -> None:
    from datetime import datetime, timedelta

    client, user, _auth, _passkey = signed_in
    signed_in_at = datetime.fromisoformat(client.session["pg_authn"]["methods"][0]["at"])
    User.objects.filter(pk=user.pk).update(sign_in_sessions_valid_from=signed_in_at - timedelta(microseconds=1))
    assert is_signed_in(client)


# --- disabling ----------------------------------------------------------------------------------------------------

def test_disabling_ends_sessions_for_good_enabling_again_brings_none_back(signed_in: Any) -> None:
    client, user, auth, _passkey = signed_in
    user_set_enabled(user=user, enabled=False, actor=SYSTEM)
    assert not is_signed_in(client)
    user_set_enabled(user=user, enabled=True, actor=SYSTEM)
    assert not is_signed_in(client)  # the old session stays ended
    reasons = list(AuditEvent.objects.filter(activity="user.revokeSignInSessions").values_list("details", flat=True))
    assert [r["reason"] for r in reasons] == ["accountDisabled"]
    assert is_signed_in(browser(auth))  # a new sign-in works


# --- deleting a method the session proved --------------------------------------------------------------------------

def test_deleting_the_passkey_a_session_signed_in_with_ends_that_session_only(enrolled: Any) -> None:
    user, laptop_key, laptop_passkey = enrolled
    phone_key = authenticator_for(user, sign_count=1)
    register(user, phone_key, name="Phone")
    laptop, phone = browser(laptop_key), browser(phone_key)

    services.passkey_delete(passkey=laptop_passkey, actor=SYSTEM)

    assert not is_signed_in(laptop)
    assert METHOD_NOTICE in notice(laptop)
    assert is_signed_in(phone)  # signed in with a passkey that still exists
    assert len(ended("method_removed")) == 1


def test_a_passkey_used_to_confirm_it_is_you_ties_the_session_to_it_too(enrolled: Any) -> None:
    user, laptop_key, _laptop_passkey = enrolled
    phone_key = authenticator_for(user, sign_count=1)
    phone_passkey = register(user, phone_key, name="Phone")
    client = browser(laptop_key)
    options = post_json(client, "/signin/reauth/options", {})
    phone_key.sign_count += 1
    assert post_json(client, "/signin/reauth/verify",
                     {"credential": phone_key.assert_(challenge=challenge_of(options.json()))}).status_code == 200

    services.passkey_delete(passkey=Passkey.objects.get(pk=phone_passkey.pk), actor=SYSTEM)
    assert not is_signed_in(client)


def test_deleting_the_pass_a_session_signed_in_with_ends_it(make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    client, other = Client(), Client()
    plain = issue_tap(user, usable_once=False)
    assert http_tap_sign_in(client, user.user_principal_name, plain).status_code == 302
    assert http_tap_sign_in(other, user.user_principal_name, plain).status_code == 302
    assert is_signed_in(client)

    services.tap_delete(tap=TemporaryAccessPass.objects.get(user=user), actor=SYSTEM)
    assert not is_signed_in(client) and not is_signed_in(other)


def test_deleting_the_authenticator_app_a_session_confirmed_with_ends_it(signed_in: Any) -> None:
    client, user, _auth, _passkey = signed_in
    enrolment = oath.software_oath_enrol_begin(user=user)
    text = enrolment.secret_text.replace(" ", "")
    seed = base64.b32decode(text + "=" * (-len(text) % 8))
    method = oath.software_oath_enrol_complete(user=user, method_id=enrolment.method.id,
                                               code=totp.code_at(seed, time.time() - 30))
    assert client.post("/signin/reauth/code", {"code": totp.code_at(seed, time.time())}).status_code == 302
    assert is_signed_in(client)

    oath.software_oath_delete(method=method, actor=SYSTEM)
    assert not is_signed_in(client)


def test_the_session_that_deletes_a_method_it_proved_goes_on_the_others_end(enrolled: Any) -> None:
    """The person deleting it has just proved who they are: their session goes on, no longer tied to the passkey;
    their other sessions that signed in with it end."""
    user, auth, passkey = enrolled
    here, elsewhere = browser(auth), browser(auth)
    register(user, authenticator_for(user), name="Spare")  # not the last method
    response = here.post(f"/security-info/passkeys/{passkey.pk}/delete")
    assert response.status_code == 302
    assert "Passkey “My passkey” deleted." in here.get("/security-info").content.decode()
    assert not is_signed_in(elsewhere)
    assert is_signed_in(here)
    recorded = here.session["pg_authn"]["methods"]
    assert [m["mode"] for m in recorded] == ["fido2"] and "methodId" not in recorded[0]  # the proof stays


def test_the_same_through_graph_me(enrolled: Any) -> None:
    user, auth, passkey = enrolled
    here, elsewhere = browser(auth), browser(auth)
    register(user, authenticator_for(user), name="Spare")
    here.get("/security-info")
    token = here.cookies["passgate_csrf"].value
    response = here.delete(f"/v1.0/me/authentication/fido2Methods/{passkey.pk}", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 204, response.content
    assert is_signed_in(here) and not is_signed_in(elsewhere)


# --- what does not end a session ------------------------------------------------------------------------------

def test_a_upn_change_keeps_sessions(signed_in: Any) -> None:
    client, user, _auth, _passkey = signed_in
    user_set_upn(user=user, upn="patricia@contoso.com", actor=SYSTEM)
    assert is_signed_in(client)
    assert not AuditEvent.objects.filter(activity="user.revokeSignInSessions").exists()


def test_roles_are_read_at_every_request_so_a_role_removed_takes_effect_at_once(make_user: Any) -> None:
    """Passgate has no role-change operation yet; a role assignment removed (as one would) is seen by the very next
    request of the admin centre and the Graph API, with no session to revoke."""
    from tests.admin.conftest import start_session

    admin = make_user(roles=(DirectoryRole.USER_ADMINISTRATOR,))
    client = start_session(Client(), admin)
    assert client.get("/admin/users").status_code == 200
    assert client.get("/v1.0/users").status_code == 200
    RoleAssignment.objects.filter(user=admin).delete()
    assert client.get("/admin/users").status_code == 403
    assert client.get("/v1.0/users").status_code == 403
    RoleAssignment.objects.create(user=admin, role=DirectoryRole.GLOBAL_READER)
    assert client.get("/admin/users").status_code == 200
    assert client.get("/admin/users/new").status_code == 403  # a reader now, no longer a User Administrator


# --- Security info: sign out everywhere -------------------------------------------------------------------------

def test_sign_out_everywhere_from_security_info(enrolled: Any) -> None:
    user, auth, _passkey = enrolled
    here, elsewhere = browser(auth), browser(auth)
    page = here.get("/security-info").content.decode()
    assert 'href="/security-info/sign-out-everywhere"' in page
    confirm = here.get("/security-info/sign-out-everywhere")
    assert confirm.status_code == 200 and b'id="confirm-sign-out-everywhere"' in confirm.content
    assert not re.search(rb"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", confirm.content)  # nothing inline
    assert is_signed_in(elsewhere) and is_signed_in(here)  # a GET changes nothing

    response = here.post("/security-info/sign-out-everywhere")
    assert (response.status_code, response["Location"]) == (302, "/signin")
    assert REVOKED_NOTICE in notice(here)
    assert not is_signed_in(here) and not is_signed_in(elsewhere)
    row = AuditEvent.objects.get(activity="user.revokeSignInSessions")
    assert row.actor_id == user.pk and row.target_id == str(user.pk)


def test_sign_out_everywhere_needs_a_session(client: Client) -> None:
    response = client.post("/security-info/sign-out-everywhere")
    assert response.status_code == 302 and response["Location"].startswith("/signin")
    assert not AuditEvent.objects.filter(activity="user.revokeSignInSessions").exists()


def test_a_pass_session_may_sign_out_everywhere(make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    client = Client()
    assert http_tap_sign_in(client, user.user_principal_name, issue_tap(user)).status_code == 302
    assert client.post("/security-info/sign-out-everywhere").status_code == 302
    assert User.objects.get(pk=user.pk).sign_in_sessions_valid_from is not None
