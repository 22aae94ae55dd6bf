"""App registrations in a real browser: a Global Administrator registers a web app (the secret shown once), fixes a
refused redirect URI, and replaces the secret. Screenshots go to pytest's tmp path (``--basetemp=/tmp/shots``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from passgate.apps.models import AppRegistration
from passgate.apps.services import app_create
from passgate.audit.services import Actor
from tests.admin.test_browser_admin import shot, sign_in_as_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_register_a_web_app_and_replace_its_secret(new_tab: Any, make_user: Any, issue_tap: Any,
                                                   tmp_path: Path) -> None:
    tab = new_tab()
    sign_in_as_admin(tab, make_user, issue_tap, "ada@contoso.com", "Ada Lovelace")
    app_create(display_name="Onboarding script", permissions=["User.ReadWrite.All", "Group.ReadWrite.All"],
               actor=Actor.system("test"))
    page = tab.page
    page.click("text=App registrations")
    tab.wait_for_path("/admin/apps")
    page.click("#add-app")
    tab.wait_for_path("/admin/apps/new")
    page.fill("#name", "Team wiki")
    page.fill("#redirect_uris", "https://wiki.contoso.test/oidc/callback\nhttp://wiki.contoso.test/cb")
    page.fill("#post_logout_redirect_uris", "https://wiki.contoso.test/")
    page.click("#register-app")
    page.wait_for_selector("#redirect-error")
    assert "Line 2: Redirect URI 'http://wiki.contoso.test/cb' uses http" in page.inner_text("#redirect-error")
    shot(tab, tmp_path / "admin-app-new-refused.png")
    page.fill("#redirect_uris", "https://wiki.contoso.test/oidc/callback")
    page.click("#register-app")
    page.wait_for_selector("#client-secret")
    secret = page.inner_text("#client-secret").strip()
    app = AppRegistration.objects.get(display_name="Team wiki")
    assert len(secret) == 43 and app.secret_hint == secret[:3]
    assert "shown only this once" in page.inner_text("#secret-warning")
    shot(tab, tmp_path / "admin-app-created.png")
    page.click("#done")
    tab.wait_for_path(f"/admin/apps/{app.pk}")
    assert secret not in page.content()
    shot(tab, tmp_path / "admin-app-detail.png")
    page.click("#new-secret")
    page.wait_for_selector("#confirm-delete")
    shot(tab, tmp_path / "admin-app-new-secret.png")
    page.click("#confirm-delete")
    page.wait_for_selector("#client-secret")
    assert page.inner_text("#client-secret").strip() != secret
    page.click("text=App registrations")
    tab.wait_for_path("/admin/apps")
    shot(tab, tmp_path / "admin-apps.png")
