"""App registrations in the admin centre: the list, registering a web app or public client (the secret shown once),
a Graph API client (Global Administrator only), editing redirect URIs, a new secret, removing it, deleting; every
refusal named on the form; who may grant Graph permissions or take over an app's secret."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.access.services import ca_policy_create
from passgate.apps.models import AppRegistration
from passgate.apps.services import OidcRegistration, TokenRequestRejected, app_create, token_issue
from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from tests.admin.conftest import APPA, CAPPA, GA, GR, as_post, form_fields, post_forms, text_of

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
WIKI_CB = "https://wiki.contoso.test/cb"


def works(app: AppRegistration, secret: str) -> bool:
    try:
        token_issue(client_id=str(app.app_id), client_secret=secret, scope="https://graph.microsoft.com/.default")
    except TokenRequestRejected:
        return False
    return True


def wiki(**kwargs: Any) -> tuple[AppRegistration, str | None]:
    return app_create(display_name=kwargs.pop("name", "Wiki"), permissions=kwargs.pop("permissions", []),
                      actor=ACTOR, oidc=OidcRegistration(redirect_uris=(WIKI_CB,), **kwargs))


def secret_on(response: Any) -> str:
    text = response.content.decode()
    start = text.index('id="client-secret"')
    return text[text.index(">", start) + 1:text.index("</p>", start)].strip()


def register(client: Any, **values: Any) -> Any:
    fields = dict(form_fields(client.get("/admin/apps/new"), "app-form"))
    fields.update(values)
    data = as_post(list(fields.items()))
    if "permissions" in values:
        data["permissions"] = list(values["permissions"])
    return client.post("/admin/apps/new", data)


# --- list -----------------------------------------------------------------------------------------------------------

def test_the_list_shows_each_app(admin_as: Any) -> None:
    client, _ = admin_as(GR)
    assert "There are no app registrations yet" in text_of(client.get("/admin/apps"))
    web, _ = wiki(post_logout_redirect_uris=("https://wiki.contoso.test/",))
    app_create(display_name="CLI tool", permissions=[], actor=ACTOR,
               oidc=OidcRegistration(redirect_uris=("http://127.0.0.1:8765/cb",), public=True))
    app_create(display_name="Onboarding", permissions=["User.Read.All"], actor=ACTOR)
    page = client.get("/admin/apps")
    text = text_of(page)
    assert f"Wiki {web.app_id} OpenID Connect web app {WIKI_CB}" in text
    assert "CLI tool" in text and "Public client http://127.0.0.1:8765/cb" in text
    assert "Onboarding" in text and "Graph API client — User.Read.All" in text
    assert b'id="add-app"' not in page.content  # a Global Reader only reads
    assert b'href="/admin/apps"' in client.get("/admin").content  # in the navigation


# --- register -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", [GA, APPA, CAPPA])
def test_register_a_web_app_and_see_its_secret_once(admin_as: Any, role: str) -> None:
    client, admin = admin_as(role)
    response = register(client, name="Wiki", kind="web", redirect_uris=f"{WIKI_CB}\n\n https://wiki.contoso.test/cb2 ",
                        post_logout_redirect_uris="https://wiki.contoso.test/")
    assert response.status_code == 200, text_of(response)[:400]
    assert response["Cache-Control"] == "no-store"
    text = text_of(response)
    assert "Copy the client secret now: it is shown only this once." in text
    app = AppRegistration.objects.get(display_name="Wiki")
    secret = secret_on(response)
    assert str(app.app_id) in text and works(app, secret)
    assert app.redirect_uris == [WIKI_CB, "https://wiki.contoso.test/cb2"]
    assert app.post_logout_redirect_uris == ["https://wiki.contoso.test/"] and app.client_type == "confidential"
    assert app.created_by == admin.user_principal_name
    detail = client.get(f"/admin/apps/{app.pk}")
    assert secret not in detail.content.decode() and f"{secret[:3]}…" in text_of(detail)
    assert secret not in client.get("/admin/apps").content.decode()
    assert AuditEvent.objects.get(activity="app.add").actor_id == admin.pk


def test_register_a_public_client(admin_as: Any) -> None:
    client, _ = admin_as(APPA)
    response = register(client, name="CLI tool", kind="public", redirect_uris="http://127.0.0.1:8765/cb")
    assert response.status_code == 200
    assert "A public client has no secret: it proves itself with PKCE" in text_of(response)
    assert b'id="client-secret"' not in response.content
    app = AppRegistration.objects.get(display_name="CLI tool")
    assert app.client_type == "public" and not app.has_secret


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"name": ""}, "name-error", "Name can't be empty."),
    ({"redirect_uris": ""}, "redirect-error", "Enter at least one redirect URI"),
    ({"redirect_uris": f"{WIKI_CB}\nhttp://wiki.contoso.test/cb"}, "redirect-error", "Line 2: Redirect URI "
     "'http://wiki.contoso.test/cb' uses http"),
    ({"redirect_uris": "https://*.contoso.test/cb"}, "redirect-error", "wildcard"),
    ({"post_logout_redirect_uris": "https://wiki.contoso.test/#bye"}, "logout-error", "Line 1: Post-logout redirect "
     "URI 'https://wiki.contoso.test/#bye' has a fragment"),
    ({"redirect_uris": "\n".join(f"https://wiki.contoso.test/{n}" for n in range(21))}, "redirect-error",
     "At most 20"),
])
def test_bad_input_is_named_on_the_form(admin_as: Any, values: dict[str, str], field: str, message: str) -> None:
    client, _ = admin_as(APPA)
    response = register(client, **{"name": "Wiki", "kind": "web", "redirect_uris": WIKI_CB, **values})
    assert response.status_code == 400
    assert f'id="{field}"' in response.content.decode()
    assert message in text_of(response)
    assert not AppRegistration.objects.exists()
    kept = dict(form_fields(response, "app-form"))  # what was typed comes back
    assert kept["name"] == values.get("name", "Wiki")


def test_graph_permissions_are_the_global_administrators(admin_as: Any) -> None:
    client, _ = admin_as(GA)
    page = client.get("/admin/apps/new")
    assert b'id="kind-graph"' in page.content and b'name="permissions"' in page.content
    response = register(client, name="Onboarding", kind="graph", redirect_uris="",
                        permissions=["User.ReadWrite.All", "Group.ReadWrite.All"])
    assert response.status_code == 200
    app = AppRegistration.objects.get(display_name="Onboarding")
    assert app.permissions == ["User.ReadWrite.All", "Group.ReadWrite.All"] and not app.is_oidc_client
    assert works(app, secret_on(response)) and "https://graph.microsoft.com/.default" in text_of(response)
    # a public client can't hold them: said next to the permissions
    refused = register(client, name="CLI", kind="public", redirect_uris="http://localhost/cb",
                       permissions=["User.Read.All"])
    assert refused.status_code == 400 and b'id="permissions-error"' in refused.content
    assert "A public client can't hold Graph application permissions" in text_of(refused)


@pytest.mark.parametrize("role", [APPA, CAPPA])
def test_an_application_administrator_grants_no_graph_permissions(admin_as: Any, role: str) -> None:
    client, admin = admin_as(role)
    page = client.get("/admin/apps/new")
    assert b'id="kind-graph"' not in page.content and b'name="permissions"' not in page.content
    assert "Only a Global Administrator can give an app Graph permissions" in text_of(page)
    crafted = client.post("/admin/apps/new", {"name": "Sneaky", "kind": "web", "redirect_uris": WIKI_CB,
                                              "permissions": ["User.ReadWrite.All"]})
    assert crafted.status_code == 403 and "Only a Global Administrator" in text_of(crafted)
    crafted = client.post("/admin/apps/new", {"name": "Sneaky", "kind": "graph"})
    assert crafted.status_code == 403
    assert not AppRegistration.objects.exists()
    assert AuditEvent.objects.filter(activity="adminCentre.applications.write", reason="authorization_denied",
                                     actor_id=admin.pk).count() == 2


# --- one app --------------------------------------------------------------------------------------------------------

def test_edit_the_name_and_redirect_uris(admin_as: Any) -> None:
    client, _ = admin_as(APPA)
    app, secret = wiki(scopes=("openid", "profile"))
    assert secret
    page = client.get(f"/admin/apps/{app.pk}")
    fields = dict(form_fields(page, "app-form"))
    assert fields["name"] == "Wiki" and fields["redirect_uris"] == WIKI_CB
    fields.update(name="Team wiki", redirect_uris=f"{WIKI_CB}\nhttps://wiki.contoso.test/cb2",
                  post_logout_redirect_uris="https://wiki.contoso.test/")
    response = client.post(f"/admin/apps/{app.pk}", fields)
    assert response.status_code == 302 and response["Location"] == f"/admin/apps/{app.pk}"
    app.refresh_from_db()
    assert app.display_name == "Team wiki" and app.redirect_uris == [WIKI_CB, "https://wiki.contoso.test/cb2"]
    assert app.allowed_scopes == ["openid", "profile"] and works(app, secret)  # what the form doesn't show: kept
    assert "“Team wiki” was saved." in text_of(client.get(f"/admin/apps/{app.pk}"))
    bad = client.post(f"/admin/apps/{app.pk}", {**fields, "redirect_uris": ""})
    assert bad.status_code == 400 and "Enter at least one redirect URI" in text_of(bad)
    bad = client.post(f"/admin/apps/{app.pk}", {**fields, "name": "  "})
    assert bad.status_code == 400 and b'id="name-error"' in bad.content
    app.refresh_from_db()
    assert app.display_name == "Team wiki"


def test_only_the_global_administrator_changes_graph_permissions(admin_as: Any) -> None:
    app, _ = app_create(display_name="Reporting", permissions=["AuditLog.Read.All"], actor=ACTOR)
    client, _ = admin_as(APPA)
    page = client.get(f"/admin/apps/{app.pk}")
    assert b'name="permissions"' not in page.content and "AuditLog.Read.All" in text_of(page)
    renamed = client.post(f"/admin/apps/{app.pk}", {"name": "Reports"})  # no permissions posted: unchanged
    assert renamed.status_code == 302
    app.refresh_from_db()
    assert app.display_name == "Reports" and app.permissions == ["AuditLog.Read.All"]
    crafted = client.post(f"/admin/apps/{app.pk}", {"name": "Reports", "permissions": ["AuditLog.Read.All",
                                                                                     "User.ReadWrite.All"]})
    assert crafted.status_code == 403 and "Only a Global Administrator" in text_of(crafted)
    app.refresh_from_db()
    assert app.permissions == ["AuditLog.Read.All"]
    ga, _ = admin_as(GA)
    fields = form_fields(ga.get(f"/admin/apps/{app.pk}"), "app-form")
    data = as_post([f for f in fields if f[0] != "permissions"] + [("permissions", "User.Read.All")])
    assert ga.post(f"/admin/apps/{app.pk}", data).status_code == 302
    app.refresh_from_db()
    assert app.permissions == ["User.Read.All"]
    # unticking every box takes them all away
    assert ga.post(f"/admin/apps/{app.pk}", as_post([f for f in fields if f[0] != "permissions"])).status_code == 302
    app.refresh_from_db()
    assert app.permissions == []


def test_a_new_secret_after_confirming(admin_as: Any) -> None:
    client, _ = admin_as(APPA)
    app, old = wiki()
    assert old
    confirm = client.get(f"/admin/apps/{app.pk}/secret")
    assert confirm.status_code == 200 and f"Its current secret ({old[:3]}…) stops working" in text_of(confirm)
    assert AppRegistration.objects.get(pk=app.pk).secret_key_id == app.secret_key_id  # a GET changes nothing
    response = client.post(f"/admin/apps/{app.pk}/secret")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert "New client secret for “Wiki”" in text_of(response)
    new = secret_on(response)
    app.refresh_from_db()
    assert works(app, new) and not works(app, old)
    removed = client.post(f"/admin/apps/{app.pk}/secret/delete")
    assert removed.status_code == 302
    app.refresh_from_db()
    assert not app.has_secret and not works(app, new)
    assert "the app can't authenticate until it is given one" in text_of(client.get(f"/admin/apps/{app.pk}"))


def test_the_secret_of_an_app_holding_graph_permissions_is_the_global_administrators(admin_as: Any) -> None:
    app, _ = app_create(display_name="Provisioning", permissions=["User.ReadWrite.All"], actor=ACTOR)
    client, _ = admin_as(CAPPA)
    page = client.get(f"/admin/apps/{app.pk}")
    assert b'id="new-secret"' not in page.content and b'id="secret-needs-ga"' in page.content
    for method in ("get", "post"):
        refused = getattr(client, method)(f"/admin/apps/{app.pk}/secret")
        assert refused.status_code == 403 and "only a Global Administrator can give it a new one" in text_of(refused)
    before = app.secret_key_id
    app.refresh_from_db()
    assert app.secret_key_id == before
    ga, _ = admin_as(GA)
    assert ga.post(f"/admin/apps/{app.pk}/secret").status_code == 200


def test_a_public_client_has_no_secret_to_make(admin_as: Any) -> None:
    client, _ = admin_as(APPA)
    app, _ = app_create(display_name="CLI", permissions=[], actor=ACTOR,
                        oidc=OidcRegistration(redirect_uris=("http://localhost/cb",), public=True))
    assert b'id="new-secret"' not in client.get(f"/admin/apps/{app.pk}").content
    response = client.post(f"/admin/apps/{app.pk}/secret")
    assert response.status_code == 400 and "A public client has no secret" in text_of(response)
    app.refresh_from_db()
    assert not app.has_secret


def test_delete_after_confirming_with_the_policies_that_name_it(admin_as: Any) -> None:
    client, _ = admin_as(APPA)
    app, secret = wiki()
    assert secret
    ca_policy_create(body={"displayName": "Wiki needs a passkey", "state": "disabled",
                           "conditions": {"users": {"includeUsers": ["All"]},
                                          "applications": {"includeApplications": [str(app.app_id)]}},
                           "grantControls": {"operator": "OR", "builtInControls": ["mfa"]}}, actor=ACTOR)
    assert "Conditional Access policies name this app: Wiki needs a passkey" in text_of(
        client.get(f"/admin/apps/{app.pk}"))
    confirm = client.get(f"/admin/apps/{app.pk}/delete")
    assert "Delete the app registration “Wiki”?" in text_of(confirm)
    assert "Conditional Access policies name this app (Wiki needs a passkey)" in text_of(confirm)
    assert AppRegistration.objects.filter(pk=app.pk).exists()
    response = client.post(f"/admin/apps/{app.pk}/delete")
    assert response.status_code == 302 and response["Location"] == "/admin/apps"
    assert not AppRegistration.objects.filter(pk=app.pk).exists() and not works(app, secret)
    assert client.get(f"/admin/apps/{app.pk}").status_code == 404


def test_a_global_reader_sees_an_app_and_changes_nothing(admin_as: Any) -> None:
    client, _ = admin_as(GR)
    app, _ = wiki()
    page = client.get(f"/admin/apps/{app.pk}")
    assert page.status_code == 200 and post_forms(page.content) == 1  # the header's sign-out form only
    assert b" disabled" in page.content and b'id="save"' not in page.content
    assert b'id="new-secret"' not in page.content and b'id="delete-app"' not in page.content
    assert client.post(f"/admin/apps/{app.pk}", {"name": "Mine"}).status_code == 403


def test_the_app_page_shows_the_api_it_exposes(admin_as: Any) -> None:
    import uuid

    from passgate.apps.exposed_api import ApiExposure
    from passgate.apps.services import app_update
    from passgate.core.app_api import PermissionScope

    client, _ = admin_as(GR)
    app, _ = app_create(display_name="Files API", permissions=[], actor=ACTOR)
    assert 'id="exposed-api"' not in client.get(f"/admin/apps/{app.pk}").content.decode()
    app_update(app=app, actor=ACTOR, api=ApiExposure(identifier_uris=("api://files",), scopes=(PermissionScope(
        id=str(uuid.uuid4()), value="Files.Read", admin_consent_display_name="Read files",
        admin_consent_description="Lets the app read files.", is_enabled=False, type="Admin"),)))
    text = text_of(client.get(f"/admin/apps/{app.pk}"))
    assert "Exposed API" in text and "api://files" in text
    assert "Files.Read Admin Disabled Read files" in " ".join(text.split())


def test_the_app_page_shows_its_roles_and_who_holds_them(admin_as: Any, make_user: Any) -> None:
    import uuid

    from passgate.apps.app_roles import app_role_assign
    from passgate.apps.exposed_api import ApiExposure
    from passgate.apps.services import app_update
    from passgate.core.app_roles import AppRole

    client, _ = admin_as(GR)
    app, _ = app_create(display_name="Payroll", permissions=[], actor=ACTOR)
    assert 'id="app-roles"' not in client.get(f"/admin/apps/{app.pk}").content.decode()
    reader, approver = str(uuid.uuid4()), str(uuid.uuid4())
    app = app_update(app=app, actor=ACTOR, api=ApiExposure(roles=(
        AppRole(id=reader, display_name="Payroll readers", value="Payroll.Read"),
        AppRole(id=approver, display_name="Approvers", value="Payroll.Approve", is_enabled=False))))
    app_role_assign(app=app, app_role_id=reader, principal=make_user("ann@contoso.com", "Ann"), actor=ACTOR)
    text = " ".join(text_of(client.get(f"/admin/apps/{app.pk}")).split())
    assert "App roles" in text
    assert "Payroll.Read Payroll readers Enabled ann@contoso.com" in text
    assert "Payroll.Approve Approvers Disabled Nobody yet." in text


def test_every_graph_permission_is_described_on_the_app_form() -> None:
    from passgate.core.graph.authz import Permission
    from passgate.web.views.admin.apps import PERMISSION_TEXT

    assert {p.value for p in Permission} == set(PERMISSION_TEXT)
