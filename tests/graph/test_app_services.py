"""The app registration services behind /applications and the admin centre: app_update, app_secret_add,
app_secret_remove (keyword-only, audited, refusals audited with their reason code), and app_create's secret choice."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from passgate.apps.models import AppRegistration
from passgate.apps.services import (
    OidcRegistration,
    TokenRequestRejected,
    app_create,
    app_secret_add,
    app_secret_remove,
    app_update,
    registration_of,
    token_issue,
)
from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
WIKI = OidcRegistration(redirect_uris=("https://wiki.contoso.test/cb",))


def works(app: AppRegistration, secret: str) -> bool:
    try:
        token_issue(client_id=str(app.app_id), client_secret=secret, scope="https://graph.microsoft.com/.default")
    except TokenRequestRejected:
        return False
    return True


def test_app_create_chooses_a_secret() -> None:
    app, secret = app_create(display_name="Wiki", permissions=[], actor=ACTOR, oidc=WIKI, secret_display_name="ci")
    assert secret and app.secret_key_id and app.secret_created_at and app.secret_display_name == "ci"
    graph, none = app_create(display_name="Script", permissions=["User.Read.All"], actor=ACTOR, with_secret=False)
    assert none is None and not graph.has_secret and graph.secret_key_id is None
    kept, forced = app_create(display_name="Keys", permissions=[], actor=ACTOR, with_secret=True)
    assert forced and kept.has_secret
    with pytest.raises(InvalidInput) as info:
        app_create(display_name="CLI", permissions=[], actor=ACTOR, with_secret=True,
                   oidc=OidcRegistration(redirect_uris=("http://localhost/cb",), public=True))
    assert info.value.code == "public_client_secret"


def test_app_update_changes_audits_and_keeps_the_rest() -> None:
    app, secret = app_create(display_name="Wiki", permissions=[], actor=ACTOR, oidc=WIKI)
    assert secret
    unchanged = app_update(app=app, actor=ACTOR, oidc=registration_of(app))
    assert unchanged.redirect_uris == app.redirect_uris
    assert not AuditEvent.objects.filter(activity="app.update").exists()  # nothing changed: no row
    changed = app_update(app=app, actor=ACTOR, display_name="  Team   wiki ", permissions=["Group.Read.All"],
                         oidc=dataclasses.replace(registration_of(app), post_logout_redirect_uris=(
                             "https://wiki.contoso.test/",)))
    assert changed.display_name == "Team wiki" and changed.permissions == ["Group.Read.All"]
    assert changed.post_logout_redirect_uris == ["https://wiki.contoso.test/"] and works(changed, secret)
    event = AuditEvent.objects.get(activity="app.update")
    assert event.details["old"] == {"displayName": "Wiki", "permissions": [], "postLogoutRedirectUris": []}
    assert event.details["new"]["permissions"] == ["Group.Read.All"]
    graph_only = app_update(app=app, actor=ACTOR, oidc=OidcRegistration())
    assert not graph_only.is_oidc_client and graph_only.allowed_scopes == [] and works(graph_only, secret)


@pytest.mark.parametrize(("change", "code"), [
    ({"display_name": ""}, "invalid_display_name"),
    ({"permissions": ["Directory.ReadWrite.All"]}, "unknown_permission"),
    ({"oidc": OidcRegistration(redirect_uris=("http://wiki.contoso.test/cb",))}, "invalid_redirect_uri"),
    ({"oidc": OidcRegistration(redirect_uris=("http://localhost/cb",), public=True)}, "public_client_secret"),
    ({"oidc": OidcRegistration(post_logout_redirect_uris=("https://a.test/",))}, "redirect_uri_required"),
])
def test_app_update_refusals_change_nothing_and_are_audited(change: dict[str, object], code: str) -> None:
    app, _ = app_create(display_name="Wiki", permissions=[], actor=ACTOR, oidc=WIKI)
    with pytest.raises(InvalidInput) as info:
        app_update(app=app, actor=ACTOR, **change)  # type: ignore[arg-type]
    assert info.value.code == code
    row = AppRegistration.objects.get(pk=app.pk)
    assert (row.display_name, row.permissions, row.redirect_uris) == ("Wiki", [], ["https://wiki.contoso.test/cb"])
    refusal = AuditEvent.objects.get(activity="app.update", result="failure")
    assert refusal.reason == code and refusal.target_id == str(app.app_id)


def test_secret_add_and_remove() -> None:
    app, _ = app_create(display_name="Script", permissions=["User.Read.All"], actor=ACTOR, with_secret=False)
    row, first = app_secret_add(app=app, actor=ACTOR, display_name="first")
    assert works(row, first) and row.secret_display_name == "first" and row.secret_hint == first[:3]
    row, second = app_secret_add(app=row, actor=ACTOR)
    assert works(row, second) and not works(row, first) and row.secret_display_name == ""
    with pytest.raises(NotFound):
        app_secret_remove(app=row, key_id=str(uuid.uuid4()), actor=ACTOR)
    with pytest.raises(InvalidInput):
        app_secret_remove(app=row, key_id="not a guid", actor=ACTOR)
    with pytest.raises(InvalidInput):
        app_secret_add(app=row, actor=ACTOR, display_name="x" * 300)
    assert works(row, second)
    assert row.secret_key_id is not None
    gone = app_secret_remove(app=row, key_id=str(row.secret_key_id), actor=ACTOR)
    assert not gone.has_secret and gone.secret_key_id is None and not works(gone, second)
    reasons = sorted(AuditEvent.objects.filter(result="failure", activity__startswith="app.").values_list(
        "activity", "reason"))
    assert reasons == [("app.addPassword", "invalid_display_name"), ("app.removePassword", "invalid_key_id"),
                       ("app.removePassword", "secret_not_found")]
    assert [e.activity for e in AuditEvent.objects.filter(result="success", activity__startswith="app.").order_by(
        "occurred_at")] == [
        "app.add", "app.addPassword", "app.addPassword", "app.removePassword"]


def test_a_removed_app_is_not_found() -> None:
    app, _ = app_create(display_name="Gone", permissions=[], actor=ACTOR)
    AppRegistration.objects.filter(pk=app.pk).delete()
    with pytest.raises(NotFound):
        app_secret_add(app=app, actor=ACTOR)
