"""The 404 page as a person sees it (issue 14 item 10): a malformed address shows Passgate's page, readable at
desktop and phone widths, and its button goes home."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.phone import DESKTOP, PHONE, too_wide

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_malformed_address_shows_the_404_page_with_a_way_home(new_tab: Any, tmp_path: Path) -> None:
    tab = new_tab()
    page = tab.page
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        response = page.goto(tab.origin + "/admin/users/not-a-uuid")
        assert response is not None and response.status == 404
        assert page.inner_text("h1") == "Page not found"
        assert page.title() == "Page not found · Passgate"
        assert page.is_visible("#go-home") and page.is_visible(".brand")
        assert not too_wide(page), (size, too_wide(page))
        page.screenshot(path=str(tmp_path / f"404-{size['width']}.png"), full_page=True, animations="disabled")
    page.click("#go-home")
    page.wait_for_load_state()
    assert tab.path() != "/admin/users/not-a-uuid" and page.locator("#http-error").count() == 0
