"""Roles and administrators in a real browser: a Global Administrator opens the roles from the navigation, gives a
person the User Administrator role by user name, removes it after the confirmation, and is refused removing their
own, last, Global Administrator role. Each page is photographed at 1280 and 390 px in pytest's tmp path and the phone
page must not scroll sideways:
    pytest tests/admin/test_browser_roles.py --basetemp=/tmp/shots  (then look at /tmp/shots/*/roles-*.png)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from passgate.directory.models import DirectoryRole, RoleAssignment
from tests.admin.test_browser_admin import shot, sign_in_as_admin
from tests.browser.helpers import audit_rows
from tests.browser.phone import DESKTOP, PHONE, too_wide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]



def shots(tab: Any, folder: Path, name: str) -> None:
    shot(tab, folder / f"roles-{name}.png")
    tab.page.set_viewport_size(PHONE)
    shot(tab, folder / f"roles-{name}-phone.png")
    wide = too_wide(tab.page)
    tab.page.set_viewport_size(DESKTOP)
    assert not wide, f"{name}: {wide}"


def test_an_administrator_assigns_and_removes_a_role(new_tab: Any, make_user: Any, issue_tap: Any,
                                                      tmp_path: Path) -> None:
    tab = new_tab()
    tab.page.set_viewport_size(DESKTOP)
    ada = sign_in_as_admin(tab, make_user, issue_tap, "ada@contoso.com", "Ada Lovelace")
    pat = make_user("pat@contoso.com", "Pat Example")
    page = tab.page

    page.click("nav.admin-nav >> text=Roles & admins")
    tab.wait_for_path("/admin/roles")
    assert page.locator("table.roles tbody tr").count() == len(DirectoryRole)
    shots(tab, tmp_path, "list")

    page.click("table.roles >> text=User Administrator")
    tab.wait_for_path(f"/admin/roles/{DirectoryRole.USER_ADMINISTRATOR.value}")
    assert "Nobody holds this role." in page.inner_text(".admin-main")
    page.fill("#member-upn", "nobody@contoso.com")
    page.click("#add-member")
    page.wait_for_selector("#role-error")
    assert "No user 'nobody@contoso.com'" in page.inner_text("#role-error")
    page.fill("#member-upn", "pat@contoso.com")
    page.click("#add-member")
    page.wait_for_selector("text=pat@contoso.com now holds the role User Administrator.")
    assert RoleAssignment.objects.filter(user=pat, role=DirectoryRole.USER_ADMINISTRATOR).exists()
    page.click("summary")  # what the role may do
    shots(tab, tmp_path, "role")

    page.click(f"tr[data-user-id='{pat.pk}'] >> text=Remove…")
    page.wait_for_selector("#confirm-delete")
    assert "Remove pat@contoso.com from User Administrator?" in page.inner_text("h1")
    shots(tab, tmp_path, "confirm")
    page.click("#confirm-delete")
    page.wait_for_selector("text=pat@contoso.com no longer holds the role User Administrator.")
    assert not RoleAssignment.objects.filter(user=pat).exists()

    tab.goto(f"/admin/roles/{DirectoryRole.GLOBAL_ADMINISTRATOR.value}")
    page.click(f"tr[data-user-id='{ada.pk}'] >> text=Remove…")
    page.wait_for_selector("text=This is your own role")
    page.click("#confirm-delete")
    page.wait_for_selector("#role-error")
    assert "last enabled Global Administrator" in page.inner_text("#role-error")
    shots(tab, tmp_path, "last-admin")
    assert RoleAssignment.objects.filter(user=ada, role=DirectoryRole.GLOBAL_ADMINISTRATOR).exists()
    assert audit_rows(activity__startswith="role.") == [
        ("role.addMember", "failure", "user_not_found"), ("role.addMember", "success", ""),
        ("role.removeMember", "success", ""), ("role.removeMember", "failure", "last_global_admin")]
