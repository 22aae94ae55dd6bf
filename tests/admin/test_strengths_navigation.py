"""Authentication strengths under Authentication methods, as in Entra (issue 14 item 11): the navigation, the
tabs, the link kept from Conditional Access, and the first address redirecting."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from passgate.directory.models import DirectoryRole
from tests.admin.conftest import APA, CAA, text_of
from tests.admin.test_browser_admin import shot, sign_in_as_admin
from tests.browser.phone import DESKTOP, PHONE, too_wide

STRENGTH = "00000000-0000-0000-0000-000000000004"  # the built-in phishing-resistant MFA strength


def nav(response: Any) -> list[str]:
    """The admin centre's navigation links as "label -> address [sub] [current]"."""
    block = re.search(r'<nav class="admin-nav".*?</nav>', response.content.decode(), flags=re.S)
    assert block is not None
    links = re.findall(r'<a href="([^"]+)"([^>]*)>([^<]+)</a>', block.group(0))
    return [f"{label} -> {href}" + (" [sub]" if "nav-sub" in attrs else "") +
            (" [current]" if "aria-current" in attrs else "") for href, attrs, label in links]


@pytest.mark.django_db
def test_strengths_are_listed_under_authentication_methods(admin_as: Any) -> None:
    client, _ = admin_as(APA)
    links = nav(client.get("/admin"))
    methods = links.index("Authentication methods -> /admin/methods")
    assert links[methods + 1] == "Authentication strengths -> /admin/methods/strengths [sub]"
    page = client.get("/admin/methods")
    assert '<nav class="tabs" aria-label="Authentication methods">' in page.content.decode()
    assert 'href="/admin/methods/strengths">Authentication strengths</a>' in page.content.decode()
    strengths = client.get("/admin/methods/strengths")
    assert strengths.status_code == 200
    assert "Authentication strengths -> /admin/methods/strengths [sub] [current]" in nav(strengths)
    assert text_of(strengths).count("Phishing-resistant MFA") >= 1
    assert client.get(f"/admin/methods/strengths/{STRENGTH}").status_code == 200


@pytest.mark.django_db
def test_conditional_access_keeps_a_link_to_the_strengths(admin_as: Any) -> None:
    client, _ = admin_as(CAA)  # may read strengths and Conditional Access, not the methods policy
    page = client.get("/admin/conditional-access").content.decode()
    assert re.search(r'<nav class="tabs" aria-label="Conditional Access">.*href="/admin/methods/strengths"', page,
                     flags=re.S)
    links = nav(client.get("/admin/methods/strengths"))
    assert "Authentication strengths -> /admin/methods/strengths [current]" in links
    assert "Conditional Access -> /admin/conditional-access" in links


@pytest.mark.django_db
@pytest.mark.parametrize(("old", "new"), [
    ("/admin/conditional-access/strengths", "/admin/methods/strengths"),
    ("/admin/conditional-access/strengths/new?from=bookmark", "/admin/methods/strengths/new?from=bookmark"),
    (f"/admin/conditional-access/strengths/{STRENGTH}", f"/admin/methods/strengths/{STRENGTH}"),
    (f"/admin/conditional-access/strengths/{STRENGTH}/delete", f"/admin/methods/strengths/{STRENGTH}/delete"),
])
def test_the_first_addresses_redirect_for_good(old: str, new: str, admin_as: Any) -> None:
    client, _ = admin_as(APA)
    moved = client.get(old)
    assert moved.status_code == 308 and moved["Location"] == new
    assert client.get(old, follow=True).status_code == 200
    assert client.post(old, {}).status_code == 308  # a form posted to the old address keeps its method


def test_an_administrator_finds_strengths_under_authentication_methods(new_tab: Any, make_user: Any,
                                                                       issue_tap: Any, tmp_path: Path) -> None:
    tab = new_tab()
    sign_in_as_admin(tab, make_user, issue_tap, "ines@contoso.com", "Ines Policy",
                     role=DirectoryRole.AUTHENTICATION_POLICY_ADMINISTRATOR)
    page = tab.page
    page.click("nav.admin-nav >> text=Authentication methods")
    tab.wait_for_path("/admin/methods")
    page.click("#nav-strengths")
    tab.wait_for_path("/admin/methods/strengths")
    assert page.inner_text("h1") == "Authentication methods"
    assert page.get_attribute("#nav-strengths", "aria-current") == "page"
    for size, name in ((DESKTOP, "strengths.png"), (PHONE, "strengths-phone.png")):
        page.set_viewport_size(size)
        shot(tab, tmp_path / name)
        assert not too_wide(page), (size, too_wide(page))
