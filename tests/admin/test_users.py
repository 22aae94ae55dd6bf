"""Users: search and paging, add, a user's methods and a passkey's details, UPN, disable/enable, delete,
passkey and authenticator-app deletion, and Temporary Access Passes shown once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core.errors import TemporaryAccessPassRejected
from passgate.credentials import services
from passgate.credentials.models import Passkey, SoftwareOathMethod, TemporaryAccessPass
from passgate.credentials.policy import policy_update
from passgate.directory.models import User
from tests.admin.conftest import AA, APA, GA, GR, TAP_PATTERN, UA, text_of

pytestmark = pytest.mark.django_db


def audited(activity: str, actor: Any, **filters: Any) -> bool:
    return AuditEvent.objects.filter(activity=activity, actor_id=actor.pk, result="success", **filters).exists()


# --- list -----------------------------------------------------------------------------------------------------------

def test_search_by_user_name_or_display_name_and_paging(admin_as: Any, make_user: Any) -> None:
    client, _ = admin_as(GR)
    for n in range(30):
        make_user(upn=f"person{n:02d}@contoso.com", display_name=f"Person {n:02d}")
    make_user(upn="grace@fabrikam.com", display_name="Grace Hopper")
    page1 = client.get("/admin/users")
    assert "1\u201325 of 32" in text_of(page1)
    assert page1.content.count(b"data-user-id=") == 25
    page2 = client.get("/admin/users?page=2")
    assert "26\u201332 of 32" in text_of(page2) and page2.content.count(b"data-user-id=") == 7
    assert b'rel="prev"' in page2.content and b'rel="next"' not in page2.content
    by_domain = client.get("/admin/users?q=FABRIKAM")
    assert by_domain.content.count(b"data-user-id=") == 1 and b"grace@fabrikam.com" in by_domain.content
    by_name = client.get("/admin/users?q=hopp")
    assert by_name.content.count(b"data-user-id=") == 1
    search_paged = client.get("/admin/users?q=person&page=2")
    assert "26\u201330 of 30" in text_of(search_paged)
    assert b"q=person&amp;page=1" in search_paged.content  # the previous link keeps the search
    nothing = client.get("/admin/users?q=nobody-here")
    assert "No user's name contains “nobody-here”." in text_of(nothing)


def test_the_list_shows_account_state_roles_and_passkey_counts(world: Any, admin_as: Any) -> None:
    client, _ = admin_as(UA)  # a User Administrator may not read methods: no passkey column
    row = re.search(rb'<tr data-user-id="' + str(world["pat"].pk).encode() + rb'">(.*?)</tr>',
                    client.get("/admin/users").content, re.S)
    assert row and b"Enabled" in row.group(1) and b'class="num"' not in row.group(1)
    client, _ = admin_as(GA)
    page = client.get("/admin/users").content
    row = re.search(rb'<tr data-user-id="' + str(world["pat"].pk).encode() + rb'">(.*?)</tr>', page, re.S)
    assert row and b'<td class="num">1</td>' in row.group(1)
    assert b"User Administrator" in page and b"Global Administrator" in page


# --- add --------------------------------------------------------------------------------------------------------------

def test_add_a_user(admin_as: Any) -> None:
    client, admin = admin_as(UA)
    response = client.post("/admin/users/new", {"upn": "Ada@Contoso.com", "display_name": "  Ada   Lovelace ",
                                                "enabled": "1"})
    user = User.objects.get(upn_normalized="ada@contoso.com")
    assert response.status_code == 302 and response["Location"] == f"/admin/users/{user.pk}"
    assert user.display_name == "Ada Lovelace" and user.account_enabled
    assert audited("user.add", admin, target_id=str(user.pk))
    page = client.get(response["Location"])
    assert "Ada@Contoso.com was added. Issue a Temporary Access Pass" in text_of(page)


@pytest.mark.parametrize(("data", "message"), [
    ({"upn": "not-a-upn", "display_name": "X"}, "User name: enter it as alias@domain, like ada@contoso.com"),
    ({"upn": "x@contoso.com", "display_name": "   "}, "Display name can't be empty."),
    ({"upn": "pat@contoso.com", "display_name": "Pat again"}, "A user with userPrincipalName 'pat@contoso.com' "
                                                              "already exists"),
])
def test_adding_a_user_with_bad_input_shows_the_form_again(data: dict[str, str], message: str, world: Any,
                                                          admin_as: Any) -> None:
    client, _ = admin_as(GA)
    before = User.objects.count()
    response = client.post("/admin/users/new", data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert f'value="{data["upn"]}"' in response.content.decode()  # what was typed stays in the form
    assert User.objects.count() == before


# --- a user's page ----------------------------------------------------------------------------------------------------

def test_a_users_page_lists_their_methods_and_what_the_policy_says(world: Any, admin_as: Any,
                                                                  add_authenticator_app: Any, issue_tap: Any) -> None:
    pat, passkey = world["pat"], world["passkey"]
    add_authenticator_app(pat)
    issue_tap(pat)
    client, _ = admin_as(GR)
    page = text_of(client.get(f"/admin/users/{pat.pk}"))
    for phrase in ("Pat Example", "pat@contoso.com", "Pilot", "Pat's laptop", str(passkey.aaguid), "Synced",
                   "Signs in", "Not attested", "Authenticator app", "One-time", "Usable",
                   "Passkey · Unknown authenticator"):
        assert phrase in page, phrase
    # Under a policy that allows device-bound passkeys only, the same passkey shows as blocked, with the rule.
    policy_update(method_id="fido2", actor=Actor.system("test"), body={"passkeyProfiles": [
        {"id": "00000000-0000-0000-0000-000000000001", "passkeyTypes": "deviceBound"}]})
    page = text_of(client.get(f"/admin/users/{pat.pk}"))
    assert "Blocked" in page and "allows only device-bound passkeys; this passkey is synced" in page


def test_a_passkeys_details(world: Any, admin_as: Any) -> None:
    pat, passkey = world["pat"], world["passkey"]
    client, _ = admin_as(AA)
    page = text_of(client.get(f"/admin/users/{pat.pk}/passkeys/{passkey.pk}"))
    for phrase in ("Pat's laptop", "Passkey of pat@contoso.com", str(passkey.aaguid), "Unknown authenticator",
                   "Synced (backup eligible)", "ES256", "Signs in under the current policy.",
                   "Default passkey profile", "Not attested", "Delete passkey…"):
        assert phrase in page, phrase


def test_delete_a_users_passkey(world: Any, admin_as: Any) -> None:
    pat, passkey = world["pat"], world["passkey"]
    client, admin = admin_as(AA)
    confirm = client.get(f"/admin/users/{pat.pk}/passkeys/{passkey.pk}/delete")
    assert confirm.status_code == 200
    assert "This is their last sign-in method" in text_of(confirm)
    assert Passkey.objects.filter(pk=passkey.pk).exists()  # the confirmation page changes nothing
    response = client.post(f"/admin/users/{pat.pk}/passkeys/{passkey.pk}/delete")
    assert response["Location"] == f"/admin/users/{pat.pk}"
    assert not Passkey.objects.filter(pk=passkey.pk).exists()
    assert audited("passkey.delete", admin, target_id=str(passkey.pk))
    assert "of pat@contoso.com was deleted. It can't sign in any more." in text_of(client.get(response["Location"]))
    assert client.post(f"/admin/users/{pat.pk}/passkeys/{passkey.pk}/delete").status_code == 404


def test_delete_a_users_authenticator_app(world: Any, admin_as: Any, add_authenticator_app: Any) -> None:
    method = add_authenticator_app(world["pat"])
    client, admin = admin_as(GA)
    path = f"/admin/users/{world['pat'].pk}/authenticator-app/{method.pk}/delete"
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 302
    assert not SoftwareOathMethod.objects.filter(pk=method.pk).exists()
    assert audited("softwareOath.delete", admin)


# --- account --------------------------------------------------------------------------------------------------------

def test_change_the_user_name(world: Any, admin_as: Any) -> None:
    pat = world["pat"]
    client, admin = admin_as(UA)
    response = client.post(f"/admin/users/{pat.pk}/upn", {"upn": "pat.example@fabrikam.com"})
    assert response.status_code == 302
    pat.refresh_from_db()
    assert pat.user_principal_name == "pat.example@fabrikam.com"
    assert audited("user.setUpn", admin, target_id=str(pat.pk))
    assert "Their passkeys keep working." in text_of(client.get(response["Location"]))


@pytest.mark.parametrize(("upn", "message"), [
    ("no-at-sign", "User name: enter it as alias@domain, like ada@contoso.com"),
    ("sam@contoso.com", "A user with userPrincipalName 'sam@contoso.com' already exists"),
])
def test_a_bad_user_name_changes_nothing(upn: str, message: str, world: Any, admin_as: Any) -> None:
    pat = world["pat"]
    client, _ = admin_as(GA)
    response = client.post(f"/admin/users/{pat.pk}/upn", {"upn": upn})
    assert response.status_code == 400
    assert message in text_of(response)
    assert f'value="{upn}"' in response.content.decode()
    pat.refresh_from_db()
    assert pat.user_principal_name == "pat@contoso.com"


def test_disable_and_enable_a_user(world: Any, admin_as: Any) -> None:
    pat = world["pat"]
    client, admin = admin_as(UA)
    assert client.post(f"/admin/users/{pat.pk}/account", {"enabled": "false"}).status_code == 302
    pat.refresh_from_db()
    assert not pat.account_enabled and audited("user.disable", admin)
    page = client.get(f"/admin/users/{pat.pk}")
    assert b'id="disabled-badge"' in page.content and b'id="enable-user"' in page.content
    assert client.post(f"/admin/users/{pat.pk}/account", {"enabled": "true"}).status_code == 302
    pat.refresh_from_db()
    assert pat.account_enabled and audited("user.enable", admin)
    bad = client.post(f"/admin/users/{pat.pk}/account", {"enabled": "maybe"})
    assert bad.status_code == 400 and "Choose to enable or disable the account." in text_of(bad)


# --- revoking sessions ----------------------------------------------------------------------------------------------

def test_revoke_sessions_behind_a_confirmation_page(world: Any, admin_as: Any) -> None:
    from tests.admin.conftest import start_session

    pat = world["pat"]
    pats_browser = start_session(Client(), pat)
    assert pats_browser.get("/security-info").status_code == 200
    client, admin = admin_as(UA)
    page = client.get(f"/admin/users/{pat.pk}")
    assert b'id="revoke-sessions"' in page.content and "Never revoked" in text_of(page)
    confirm = client.get(f"/admin/users/{pat.pk}/revoke-sessions")
    assert confirm.status_code == 200
    assert "Revoke the sessions of pat@contoso.com?" in text_of(confirm)
    assert "This includes your own session" not in text_of(confirm)
    assert not re.search(rb"<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", confirm.content)
    assert pats_browser.get("/security-info").status_code == 200  # the page itself changes nothing

    response = client.post(f"/admin/users/{pat.pk}/revoke-sessions")
    assert (response.status_code, response["Location"]) == (302, f"/admin/users/{pat.pk}")
    after = client.get(response["Location"])
    assert "pat@contoso.com is signed out everywhere" in text_of(after) and "Last revoked" in text_of(after)
    assert pats_browser.get("/security-info").status_code == 302
    row = AuditEvent.objects.get(activity="user.revokeSignInSessions")
    assert (row.actor_id, row.target_id, row.details["reason"]) == (admin.pk, str(pat.pk), "revokeSignInSessions")
    assert client.get("/admin/users").status_code == 200  # the administrator's own session goes on


def test_who_may_revoke_sessions(world: Any, admin_as: Any) -> None:
    pat = world["pat"]
    auth_admin, _ = admin_as(AA)
    assert auth_admin.post(f"/admin/users/{pat.pk}/revoke-sessions").status_code == 302
    reader, reader_user = admin_as(GR)
    assert b'id="revoke-sessions"' not in reader.get(f"/admin/users/{pat.pk}").content
    for response in (reader.get(f"/admin/users/{pat.pk}/revoke-sessions"),
                     reader.post(f"/admin/users/{pat.pk}/revoke-sessions")):
        assert response.status_code == 403
    refusals = AuditEvent.objects.filter(activity="adminCentre.users.revokeSessions", actor_id=reader_user.pk)
    assert refusals.count() == 2 and {r.reason for r in refusals} == {"authorization_denied"}
    # an administrator's sessions are revoked only by a role that may manage theirs (Graph's sensitive actions)
    user_admin, _ = admin_as(UA)
    _, global_admin = admin_as(GA)
    assert b'id="revoke-sessions"' not in user_admin.get(f"/admin/users/{global_admin.pk}").content
    assert user_admin.post(f"/admin/users/{global_admin.pk}/revoke-sessions").status_code == 403
    assert AuditEvent.objects.filter(activity="user.revokeSignInSessions").count() == 1
    assert User.objects.get(pk=global_admin.pk).sign_in_sessions_valid_from is None


def test_revoking_your_own_sessions_warns_and_signs_you_out(admin_as: Any) -> None:
    client, admin = admin_as(UA)
    confirm = client.get(f"/admin/users/{admin.pk}/revoke-sessions")
    assert "This includes your own session: you will be signed out." in text_of(confirm)
    assert client.post(f"/admin/users/{admin.pk}/revoke-sessions").status_code == 302
    assert client.get("/admin/users").status_code == 302  # to the sign-in page


def test_an_administrator_cannot_disable_or_delete_themselves(admin_as: Any) -> None:
    client, admin = admin_as(GA)
    page = client.get(f"/admin/users/{admin.pk}")
    assert b'id="disable-user"' not in page.content and "You can't disable your own account." in text_of(page)
    response = client.post(f"/admin/users/{admin.pk}/account", {"enabled": "false"})
    assert response.status_code == 400
    assert "You can't disable your own account: you would be signed out at once" in text_of(response)
    response = client.post(f"/admin/users/{admin.pk}/delete")
    assert response.status_code == 400 and "You can't delete your own account." in text_of(response)
    admin.refresh_from_db()
    assert admin.account_enabled
    assert not AuditEvent.objects.filter(activity__in=["user.disable", "user.delete"]).exists()


def test_delete_a_user(world: Any, admin_as: Any) -> None:
    pat = world["pat"]
    client, admin = admin_as(UA)
    confirm = client.get(f"/admin/users/{pat.pk}/delete")
    assert "Delete pat@contoso.com?" in text_of(confirm)
    response = client.post(f"/admin/users/{pat.pk}/delete")
    assert response["Location"] == "/admin/users"
    assert not User.objects.filter(pk=pat.pk).exists() and not Passkey.objects.filter(user_id=pat.pk).exists()
    assert audited("user.delete", admin, target_id=str(pat.pk))


# --- Temporary Access Pass ---------------------------------------------------------------------------------------

def test_issue_a_pass_shown_once(world: Any, admin_as: Any) -> None:
    pat = world["pat"]
    client, admin = admin_as(AA)
    form = client.get(f"/admin/users/{pat.pk}/tap")
    assert 'value="60"' in form.content.decode() and "allows 10 to 43200 minutes" in text_of(form)
    response = client.post(f"/admin/users/{pat.pk}/tap", {"lifetime": "120", "once": "1"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    shown = TAP_PATTERN.findall(response.content.decode())
    assert len(set(shown)) == 1
    plain = shown[0]
    page = text_of(response)
    assert "Shown only this once." in page and "Click the pass to select it, then copy it" in page
    assert "(120 minutes)" in page and "One sign-in" in page
    assert "/signin/tap?upn=pat@contoso.com" in page
    row = TemporaryAccessPass.objects.get(user=pat)
    assert row.lifetime_minutes == 120 and row.is_usable_once and row.created_by == admin.user_principal_name
    assert plain.encode() not in bytes(row.digest) and plain.replace("-", "").encode() not in bytes(row.digest)
    assert audited("tap.issue", admin, target_id=str(pat.pk))
    # Nowhere else: not on the user's page, not in the audit log.
    assert not TAP_PATTERN.search(client.get(f"/admin/users/{pat.pk}").content.decode())
    assert not any(plain in str(e.details) for e in AuditEvent.objects.all())
    # And it works, once.
    assert services.tap_signin(upn="pat@contoso.com", tap=plain).user == pat
    with pytest.raises(TemporaryAccessPassRejected):
        services.tap_signin(upn="pat@contoso.com", tap=plain)


def test_issue_a_multi_use_pass(world: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post(f"/admin/users/{world['pat'].pk}/tap", {"lifetime": "30"})
    assert response.status_code == 200 and "Several sign-ins until it expires" in text_of(response)
    assert not TemporaryAccessPass.objects.get(user=world["pat"]).is_usable_once


@pytest.mark.parametrize(("data", "message"), [
    ({"lifetime": "soon", "once": "1"}, "Lifetime must be a whole number of minutes, not “soon”."),
    ({"lifetime": "5", "once": "1"}, "Lifetime must be between 10 and 43,200 minutes."),
    ({"lifetime": "50000", "once": "1"}, "Lifetime must be between 10 and 43,200 minutes."),
])
def test_a_bad_pass_lifetime_issues_nothing(data: dict[str, str], message: str, world: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post(f"/admin/users/{world['pat'].pk}/tap", data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert not TAP_PATTERN.search(response.content.decode())
    assert not TemporaryAccessPass.objects.exists()


def test_a_pass_outside_the_policy_is_refused_with_the_reason(world: Any, admin_as: Any) -> None:
    policy_update(method_id="TemporaryAccessPass", actor=Actor.system("test"),
                  body={"isUsableOnce": True, "maximumLifetimeInMinutes": 60, "defaultLifetimeInMinutes": 30})
    client, _ = admin_as(GA)
    form = client.get(f"/admin/users/{world['pat'].pk}/tap")
    assert "The policy allows one-time passes only." in text_of(form)
    too_long = client.post(f"/admin/users/{world['pat'].pk}/tap", {"lifetime": "120", "once": "1"})
    assert too_long.status_code == 400
    assert "the Temporary Access Pass policy allows 10 to 60 minutes" in text_of(too_long)
    multi = client.post(f"/admin/users/{world['pat'].pk}/tap", {"lifetime": "30"})
    assert multi.status_code == 400
    assert "the Temporary Access Pass policy allows only one-time passes" in text_of(multi)
    policy_update(method_id="TemporaryAccessPass", actor=Actor.system("test"), body={"state": "disabled"})
    form = client.get(f"/admin/users/{world['pat'].pk}/tap")
    assert "The Temporary Access Pass policy doesn't include pat@contoso.com (the method is off)" in text_of(form)
    refused = client.post(f"/admin/users/{world['pat'].pk}/tap", {"lifetime": "30", "once": "1"})
    assert refused.status_code == 400
    assert "The Temporary Access Pass policy does not include pat@contoso.com." in text_of(refused)
    assert not TemporaryAccessPass.objects.exists()


def test_the_untrusted_models_report_lists_flagged_passkeys(world: Any, admin_as: Any) -> None:
    from django.utils import timezone

    from passgate.credentials.models import Passkey

    client, _ = admin_as(GR)
    assert "No registered passkey is of a model" in text_of(client.get("/admin/reports/untrusted-models"))
    Passkey.objects.filter(pk=world["passkey"].pk).update(metadata_revoked_at=timezone.now(), metadata_status="REVOKED")
    page = text_of(client.get("/admin/reports/untrusted-models"))
    assert world["pat"].user_principal_name in page and "REVOKED" in page and "these passkeys still sign in" in page
    # A Global Reader sees the switch but can't change it.
    assert client.post("/admin/reports/untrusted-models", {"refuse": "on"}).status_code == 403


def test_the_tenant_turns_refusal_of_untrusted_models_on_and_off_from_the_report(world: Any, admin_as: Any) -> None:
    from passgate.credentials.policy_selectors import current_policy

    client, _ = admin_as(APA)
    saved = client.post("/admin/reports/untrusted-models", {"refuse": "on"})
    assert saved.status_code == 302
    assert current_policy().fido2.refuse_flagged_models_at_sign_in
    page = text_of(client.get("/admin/reports/untrusted-models"))
    assert "Passkeys of untrusted models are now refused at sign-in." in page and "refused at sign-in" in page
    row = AuditEvent.objects.filter(activity="authenticationMethodsPolicy.update").latest("occurred_at")
    assert row.details["changes"] == [{"path": "fido2.@passgate.refuseFlaggedModelsAtSignIn", "old": None,
                                       "new": True}]
    assert client.post("/admin/reports/untrusted-models", {}).status_code == 302
    assert not current_policy().fido2.refuse_flagged_models_at_sign_in
