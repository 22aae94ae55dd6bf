"""Who reaches which admin page and change: exactly what core.graph.authz says, per role; everyone else is refused
(anonymous: to the sign-in page; no role: 403), refusals are audited and change nothing; CSRF; TAP sessions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client

from passgate.apps.models import AppRegistration
from passgate.apps.services import OidcRegistration, app_create
from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core.graph.authz import OPERATIONS, Role
from passgate.credentials.models import Passkey, PolicyVersion, TemporaryAccessPass
from passgate.directory.models import GroupMembership, RoleAssignment, SecurityGroup, User
from tests.admin.conftest import AA, APA, GA, GR, ROLES, UA, post_forms, start_session, text_of

pytestmark = pytest.mark.django_db

AUDIT_READERS = {GA, GR}


def allowed(role: str, operation: str | None) -> bool:
    """The expectation, read from the authz registry itself (the audit log: Global Reader and Global Administrator)."""
    if operation is None:
        return True
    if operation == "audit.read":
        return role in AUDIT_READERS
    return Role(role) in OPERATIONS[operation].roles


# (path template, operation a GET needs)
PAGES = [
    ("/admin", None),
    ("/admin/users", "users.read"),
    ("/admin/users?q=pat", "users.read"),
    ("/admin/users/new", "users.write"),
    ("/admin/users/{pat}", "users.read"),
    ("/admin/users/{pat}/delete", "users.write"),
    ("/admin/users/{pat}/tap", "methods.write"),
    ("/admin/users/{pat}/passkeys/{passkey}", "methods.read"),
    ("/admin/users/{pat}/passkeys/{passkey}/delete", "methods.write"),
    ("/admin/groups", "groups.read"),
    ("/admin/groups/new", "groups.write"),
    ("/admin/groups/{group}", "groups.read"),
    ("/admin/groups/{group}/delete", "groups.write"),
    ("/admin/methods", "policy.read"),
    ("/admin/methods/passkey", "policy.read"),
    ("/admin/methods/passkey?tab=configure", "policy.read"),
    ("/admin/methods/temporary-access-pass", "policy.read"),
    ("/admin/methods/authenticator-app", "policy.read"),
    ("/admin/audit", "audit.read"),
    ("/admin/reports/untrusted-models", "methods.read"),
    ("/admin/conditional-access", "access.read"),
    ("/admin/conditional-access/new", "access.read"),
    ("/admin/conditional-access/{capolicy}", "access.read"),
    ("/admin/conditional-access/{capolicy}/delete", "access.write"),
    ("/admin/conditional-access/what-if", "access.read"),
    ("/admin/conditional-access/what-if?user=pat@contoso.com&app=a7c2b5d1-6f0e-4c43-9b59-2f2d5a0c9e11"
     "&method=tap", "access.read"),
    ("/admin/methods/strengths", "strengths.read"),
    ("/admin/methods/strengths/new", "strengths.read"),
    ("/admin/methods/strengths/{strength}", "strengths.read"),
    ("/admin/methods/strengths/{strength}/delete", "strengths.write"),
    ("/admin/apps", "applications.read"),
    ("/admin/apps/new", "applications.write"),
    ("/admin/apps/{app}", "applications.read"),
    ("/admin/apps/{app}/secret", "applications.write"),
    ("/admin/apps/{app}/secret/delete", "applications.write"),
    ("/admin/apps/{app}/delete", "applications.write"),
    ("/admin/roles", "roles.read"),
    ("/admin/roles/" + GR, "roles.read"),
    ("/admin/roles/" + GR + "/members/{pat}/remove", "roles.write"),
]


def fill(template: str, world: dict[str, Any]) -> str:
    return template.format(pat=world["pat"].pk, passkey=world["passkey"].pk, group=world["group"].pk,
                           capolicy=world["capolicy"].id, strength=world["strength"].id, app=world["app"].pk)


@pytest.mark.parametrize("role_name", sorted(ROLES))
def test_every_page_answers_each_role_as_the_registry_says(role_name: str, access_world: Any, admin_as: Any) -> None:
    world = access_world
    role = ROLES[role_name]
    client, _ = admin_as(role)
    answers = {template: client.get(fill(template, world)).status_code for template, _ in PAGES}
    expected = {template: 200 if allowed(role, op) else 403 for template, op in PAGES}
    assert answers == expected


def test_anonymous_is_sent_to_sign_in_and_back(access_world: Any) -> None:
    world = access_world
    client = Client()
    for template, _ in PAGES:
        path = fill(template, world)
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/signin?next=" + quote(path, safe="/"), path
    refused = client.post(f"/admin/users/{world['pat'].pk}/account", {"enabled": "false"})
    assert refused.status_code == 302 and refused["Location"] == "/signin?next=/admin"
    world["pat"].refresh_from_db()
    assert world["pat"].account_enabled


def test_a_signed_in_person_without_a_role_gets_403_everywhere_and_it_is_audited(access_world: Any) -> None:
    world = access_world
    client = start_session(Client(), world["sam"])
    for template, _ in PAGES:
        response = client.get(fill(template, world))
        assert response.status_code == 403
        assert "your account holds no administrator role" in text_of(response)
    refused = AuditEvent.objects.filter(activity="adminCentre.access", result="failure", actor_id=world["sam"].pk)
    assert refused.count() == len(PAGES)
    assert {e.reason for e in refused} == {"authorization_denied"}
    # No admin navigation, and no link to the admin centre in the header.
    page = client.get("/security-info")
    assert b"admin-centre-link" not in page.content


def test_the_header_links_administrators_to_the_admin_centre(admin_as: Any) -> None:
    client, _ = admin_as(GR)
    assert b'id="admin-centre-link"' in client.get("/security-info").content


def test_a_temporary_access_pass_session_never_reaches_the_admin_centre(make_user: Any, issue_tap: Any) -> None:
    from passgate.directory.models import DirectoryRole

    admin = make_user(upn="newadmin@contoso.com", roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    client = Client()
    response = client.post("/signin/tap", {"upn": admin.user_principal_name, "tap": issue_tap(admin)})
    assert response["Location"] == "/security-info"
    for path in ("/admin", "/admin/users", "/admin/methods/passkey"):
        assert client.get(path)["Location"] == "/security-info"
    assert client.post("/admin/users/new", {"upn": "x@contoso.com", "display_name": "X"})["Location"] == \
        "/security-info"
    assert not User.objects.filter(upn_normalized="x@contoso.com").exists()
    assert b"admin-centre-link" not in client.get("/security-info").content


# --- changes: every POST, every role --------------------------------------------------------------------------------

def _changes(world: Any) -> list[tuple[str, str, dict[str, str], int]]:
    pat, group, passkey = world["pat"], world["group"], world["passkey"]
    app, _ = app_create(display_name="Wiki", permissions=[], actor=Actor.system("test"),
                        oidc=OidcRegistration(redirect_uris=("https://wiki.contoso.test/cb",)))
    return [
        ("users.write", "/admin/users/new", {"upn": "new@contoso.com", "display_name": "New", "enabled": "1"}, 302),
        ("users.write", f"/admin/users/{pat.pk}/upn", {"upn": "pat.renamed@contoso.com"}, 302),
        ("users.write", f"/admin/users/{pat.pk}/account", {"enabled": "false"}, 302),
        ("methods.write", f"/admin/users/{pat.pk}/tap", {"lifetime": "60", "once": "1"}, 200),
        ("methods.write", f"/admin/users/{pat.pk}/passkeys/{passkey.pk}/delete", {}, 302),
        ("groups.write", "/admin/groups/new", {"display_name": "Another"}, 302),
        ("groups.write", f"/admin/groups/{group.pk}/members", {"upn": "sam@contoso.com"}, 302),
        ("groups.write", f"/admin/groups/{group.pk}/members/{pat.pk}/remove", {}, 302),
        ("groups.write", f"/admin/groups/{group.pk}/delete", {}, 302),
        ("policy.write", "/admin/methods/passkey",
         {"tab": "configure", "p0-id": "00000000-0000-0000-0000-000000000001", "p0-types": "deviceBound,synced",
          "p0-attestation": "disabled", "p0-kr-type": "allow"}, 200),  # self-service off: the preview
        ("policy.write", "/admin/methods/temporary-access-pass",
         {"state": "enabled", "include": "all_users", "minimumLifetimeInMinutes": "10",
          "defaultLifetimeInMinutes": "30", "maximumLifetimeInMinutes": "480"}, 302),
        ("policy.write", "/admin/methods/authenticator-app", {"include": "all_users"}, 302),  # disabled
        ("roles.write", f"/admin/roles/{GR}/members", {"upn": "sam@contoso.com"}, 302),
        ("roles.write", f"/admin/roles/{GR}/members/{world['sam'].pk}/remove", {}, 302),
        ("users.write", f"/admin/users/{pat.pk}/delete", {}, 302),
        ("applications.write", "/admin/apps/new", {"name": "New", "kind": "web",
                                                   "redirect_uris": "https://new.contoso.test/cb"}, 200),
        ("applications.write", f"/admin/apps/{app.pk}", {"name": "Renamed",
                                                         "redirect_uris": "https://wiki.contoso.test/cb"}, 302),
        ("applications.write", f"/admin/apps/{app.pk}/secret", {}, 200),
        ("applications.write", f"/admin/apps/{app.pk}/secret/delete", {}, 302),
        ("applications.write", f"/admin/apps/{app.pk}/delete", {}, 302),
    ]


def _state() -> tuple[Any, ...]:
    return (sorted(User.objects.values_list("user_principal_name", "account_enabled")),
            Passkey.objects.count(), TemporaryAccessPass.objects.count(), SecurityGroup.objects.count(),
            GroupMembership.objects.count(), PolicyVersion.objects.count(),
            sorted((name, bytes(digest)) for name, digest in AppRegistration.objects.values_list(
                "display_name", "secret_sha256")),
            sorted(RoleAssignment.objects.values_list("user_id", "role")),
            AuditEvent.objects.filter(result="success").count())


@pytest.mark.parametrize("role_name", sorted(ROLES))
def test_every_change_is_allowed_or_refused_as_the_registry_says(role_name: str, world: Any,
                                                                 admin_as: Any) -> None:
    role = ROLES[role_name]
    client, admin = admin_as(role)
    for operation, path, data, success in _changes(world):
        before = _state()
        response = client.post(path, data)
        if allowed(role, operation):
            assert response.status_code == success, (path, response.content[:400])
        else:
            assert response.status_code == 403, path
            assert _state() == before, path
            assert AuditEvent.objects.filter(activity=f"adminCentre.{operation}", result="failure",
                                             reason="authorization_denied", actor_id=admin.pk).exists()


def test_the_global_reader_sees_everything_and_is_offered_no_change(access_world: Any, admin_as: Any) -> None:
    world = access_world
    client, _ = admin_as(GR)
    for template, operation in PAGES:
        if operation and operation.endswith(".write"):
            continue
        response = client.get(fill(template, world))
        assert response.status_code == 200, template
        assert post_forms(response.content) == 1, template  # the header's sign-out form only
        for marker in (b'id="add-user"', b'id="issue-tap"', b'id="change-upn"', b'id="disable-user"',
                       b'id="delete-user"', b'id="delete-passkey"', b'id="add-group"', b'id="add-member"',
                       b'id="delete-group"', b'id="review"', b'id="save"', b"/delete\""):
            assert marker not in response.content, (template, marker)
    # The methods are visible (read), their policy forms show disabled inputs.
    user_page = client.get(f"/admin/users/{world['pat'].pk}")
    assert "Pat&#x27;s laptop" in user_page.content.decode()
    policy_page = client.get("/admin/methods/passkey")
    assert b"View only" in policy_page.content and b" disabled" in policy_page.content


def test_csrf_is_required_on_every_admin_change(world: Any, admin_as: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    admin_as(GA, client=client)
    pat = world["pat"]
    refused = client.post(f"/admin/users/{pat.pk}/account", {"enabled": "false"})
    assert refused.status_code == 403
    assert "This form has expired" in text_of(refused)
    refused = client.post("/admin/methods/authenticator-app", {"include": "all_users"})
    assert refused.status_code == 403
    pat.refresh_from_db()
    assert pat.account_enabled and PolicyVersion.objects.count() == 0
    # With the page's token the same request goes through.
    client.get(f"/admin/users/{pat.pk}")
    token = client.cookies["passgate_csrf"].value
    done = client.post(f"/admin/users/{pat.pk}/account", {"enabled": "false", "csrfmiddlewaretoken": token})
    assert done.status_code == 302
    pat.refresh_from_db()
    assert not pat.account_enabled


@pytest.mark.parametrize(("actor_role", "operation"), [(UA, "users.write"), (AA, "methods.write")])
def test_sensitive_actions_need_a_role_that_outranks_the_target(actor_role: str, operation: str, admin_as: Any,
                                                                add_passkey: Any) -> None:
    client, _ = admin_as(actor_role)
    _, target = admin_as(GA, upn="root@contoso.com")
    passkey = add_passkey(target)
    page = client.get(f"/admin/users/{target.pk}")
    assert page.status_code == 200
    assert b'id="not-manageable"' in page.content
    assert b'id="disable-user"' not in page.content and b'id="issue-tap"' not in page.content
    base = f"/admin/users/{target.pk}"
    attempts = ([f"{base}/account", f"{base}/upn", f"{base}/delete"] if operation == "users.write"
                else [f"{base}/tap", f"{base}/passkeys/{passkey.pk}/delete"])
    for path in attempts:
        response = client.post(path, {"enabled": "false", "upn": "x@contoso.com", "lifetime": "60"})
        assert response.status_code == 403, path
        assert "holds an administrator role that your roles can't manage" in text_of(response)
    target.refresh_from_db()
    assert target.account_enabled and target.user_principal_name == "root@contoso.com"
    assert Passkey.objects.filter(pk=passkey.pk).exists() and not TemporaryAccessPass.objects.filter(user=target)


def test_a_user_administrator_manages_another_user_administrator(admin_as: Any) -> None:
    client, _ = admin_as(UA)
    _, other = admin_as(UA, upn="ua2@contoso.com")
    assert client.post(f"/admin/users/{other.pk}/account", {"enabled": "false"}).status_code == 302
    other.refresh_from_db()
    assert not other.account_enabled


def test_unknown_ids_answer_404_inside_the_admin_centre(admin_as: Any, world: Any) -> None:
    client, _ = admin_as(GA)
    for path in ("/admin/users/00000000-0000-0000-0000-000000000099",
                 f"/admin/users/{world['sam'].pk}/passkeys/{world['passkey'].pk}",  # Pat's passkey, not Sam's
                 "/admin/groups/00000000-0000-0000-0000-000000000099"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "It may have been deleted" in text_of(response)


def test_apa_and_aa_roles_see_only_their_sections_in_the_navigation(admin_as: Any) -> None:
    client, _ = admin_as(APA)
    nav = client.get("/admin").content
    assert b'href="/admin/methods"' in nav and b'href="/admin/audit"' not in nav
    client, _ = admin_as(AA)
    nav = client.get("/admin").content
    assert b'href="/admin/methods"' not in nav and b'href="/admin/users"' in nav
