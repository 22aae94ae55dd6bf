"""The page that stops a relying party's redirect loop (issue 12 item 11), as a person sees it: what happened, what
the app asked for and what the sign-in met, readable at desktop and phone widths."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from passgate.apps.services import OidcRegistration, app_create
from passgate.audit.services import Actor
from passgate.core.oidc import LOOP_LIMIT
from tests.browser.phone import DESKTOP, PHONE, too_wide

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_looping_app_gets_a_page_that_says_why(new_tab: Any, enroll: Any, app: str, tmp_path: Path) -> None:
    tab = new_tab()
    enroll(tab, "pat@contoso.com", "Pat Example")
    callback = f"{app}/security-info"  # a page of Passgate's own stands in for the app's redirect URI
    wiki, _ = app_create(display_name="Team wiki", permissions=[], actor=Actor.system("browser test"),
                         oidc=OidcRegistration(redirect_uris=(callback,)))
    query = {"client_id": str(wiki.app_id), "redirect_uri": callback, "response_type": "code", "scope": "openid",
             "nonce": "n", "state": "s"}
    for _ in range(LOOP_LIMIT):  # the app takes each code and sends the person straight back
        tab.page.goto(f"{app}/oidc/authorize?{urlencode(query)}")
        assert tab.path().startswith("/security-info?code=")
    page = tab.page
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        response = page.goto(f"{app}/oidc/authorize?{urlencode(query)}")
        assert response is not None and response.status == 400
        assert page.inner_text("h1") == "Team wiki keeps sending you back"
        assert "didn't ask for any particular sign-in strength" in page.inner_text("#oidc-loop")
        assert "Your sign-in meets: Multifactor authentication." in page.inner_text("#oidc-loop")  # a pass session
        assert page.is_visible(".who-upn") is (size is DESKTOP)  # a phone's header: the name and Sign out only
        assert not too_wide(page), (size, too_wide(page))
        page.screenshot(path=str(tmp_path / f"loop-{size['width']}.png"), full_page=True, animations="disabled")
