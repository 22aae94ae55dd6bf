"""Passgate's pages under their Content-Security-Policy, in Chromium: every page works with no violation.

Every browser test checks this already (tests/browser/fixtures.py: the ``new_tab`` fixture fails a test whose tabs
saw a ``securitypolicyviolation`` event, a policy error in the console, or a Passgate document without a CSP); these
walk the main pages on purpose, with their scripts at work: sign-in (passkey autofill), Temporary Access Pass,
Security info (add a passkey, the authenticator-app QR code, "Confirm it's you"), every admin-centre page reachable
by its links (the TAP and the client secret shown once, the passkey-model picker), and the pages of an app's
sign-in: the add-a-passkey interrupt, step-up, a Conditional Access block, an unusable request, the sign-out
confirmation. Their forms must reach an app on another origin after their redirects, which Chromium checks against
``form-action``. Screenshots of a few pages go to pytest's tmp path (look at them: nothing lost its styling).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests

from passgate.access.services import ca_policy_create
from passgate.apps.services import OidcRegistration, app_create
from passgate.audit.services import Actor
from passgate.core.access import PHISHING_RESISTANT_MFA_ID
from passgate.directory.models import DirectoryRole
from tests.http.everything import one_of_everything
from tests.oidc.conftest import basic, pkce
from tests.services.support import authenticator_for, register, use_test_relying_party

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SYSTEM = Actor.system("browser test")
MAX_ADMIN_PAGES = 80
PNG = b"\x89PNG\r\n\x1a\n"


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def other_origin() -> Iterator[str]:
    """An app on another origin (another port): every path answers a small page saying where the browser is."""

    def page(environ: dict[str, Any], start: Any) -> list[bytes]:
        start("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [f"<!doctype html><title>App</title><p id=landed>{environ['PATH_INFO']}</p>".encode()]

    server: WSGIServer = make_server("127.0.0.1", 0, page, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@contextlib.contextmanager
def software_relying_party(settings: Any) -> Iterator[None]:
    """For a moment, the relying party the software authenticator speaks to: passkeys registered without the
    browser (they belong to people the browser never signs in as with a passkey)."""
    saved = settings.PASSGATE, settings.ALLOWED_HOSTS, settings.CSRF_TRUSTED_ORIGINS
    use_test_relying_party(settings)
    try:
        yield
    finally:
        settings.PASSGATE, settings.ALLOWED_HOSTS, settings.CSRF_TRUSTED_ORIGINS = saved


def _shot(tab: Any, path: Path) -> None:
    tab.page.screenshot(path=str(path), full_page=True, animations="disabled")
    assert path.read_bytes().startswith(PNG)


def _admin_links(tab: Any) -> list[str]:
    hrefs = tab.page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    return [h for h in hrefs if h.startswith("/admin")]


def test_the_main_pages_pass_the_policy(new_tab: Any, make_user: Any, issue_tap: Any, settings: Any,
                                       tmp_path: Path) -> None:
    with software_relying_party(settings):  # a user with a passkey and an app, a group, an app, policies, logs
        one_of_everything(make_user, issue_tap)
    anonymous = new_tab()
    anonymous.goto("/signin")
    anonymous.wait_autofill_settled()  # webauthn.js ran: it reports how the passkey autofill request ended
    _shot(anonymous, tmp_path / "signin.png")
    anonymous.page.click("#tap-link")
    anonymous.page.wait_for_selector("#tap")
    _shot(anonymous, tmp_path / "tap.png")

    tab = new_tab()
    admin = make_user("grace@contoso.com", "Grace Hopper", roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    tab.add_authenticator()
    tab.tap_sign_in("grace@contoso.com", issue_tap(admin))
    tab.wait_for_path("/security-info")
    tab.add_passkey("Grace's key")  # webauthn.js: options, navigator.credentials.create, verify
    tab.page.wait_for_selector("text=Passkey “Grace's key” added.")
    tab.sign_out()
    tab.wait_for_path("/security-info")  # the autofill (conditional mediation) signed Grace back in
    _shot(tab, tmp_path / "security-info.png")
    tab.goto("/security-info/authenticator-app/new")
    tab.page.wait_for_selector(".qr svg")  # the QR code: inline SVG markup, no style attribute
    tab.goto("/signin/reauth?next=/security-info")
    tab.page.click("#reauth-button")  # "Confirm it's you" with the passkey
    tab.wait_for_path("/security-info")

    # The admin centre: every page its links reach, breadth first.
    seen: set[str] = set()
    queue = ["/admin"]
    while queue and len(seen) < MAX_ADMIN_PAGES:
        href = queue.pop(0)
        key = urlsplit(href).path
        if key in seen:
            continue
        seen.add(key)
        tab.goto(href)
        assert tab.page.locator(".admin-main").count() == 1, href
        queue += [link for link in _admin_links(tab) if urlsplit(link).path not in seen]
    assert len(seen) >= 25, sorted(seen)  # users, groups, apps, methods, logs, Conditional Access, details
    tab.goto("/admin/users")
    _shot(tab, tmp_path / "admin-users.png")

    # The pass and the client secret shown once; the passkey-model picker (admin.js).
    target = admin.__class__.objects.get(user_principal_name="pat@contoso.com")
    tab.goto(f"/admin/users/{target.pk}/tap")
    tab.page.click("#issue")
    tab.page.wait_for_selector("#tap-pass")
    tab.goto("/admin/apps/new")
    tab.page.fill("#name", "Payroll")
    tab.page.fill("#redirect_uris", "https://payroll.contoso.test/callback")
    tab.page.click("#register-app")
    tab.page.wait_for_selector("#client-secret")
    _shot(tab, tmp_path / "admin-app-created.png")
    tab.goto("/admin/methods/strengths/new")
    tab.page.fill("#new-pick", "YubiKey 5 Series")
    tab.page.click("[data-add-model=new]")
    assert tab.page.input_value("#new-aaguids") == "YubiKey 5 Series"
    _shot(tab, tmp_path / "admin-strength.png")


def _authorize(tab: Any, client_id: str, redirect_uri: str, **extra: str) -> None:
    _, challenge = pkce()
    tab.goto("/oidc/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": "openid profile",
        "state": "st", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256", **extra}))


def test_the_pages_of_an_app_sign_in_pass_the_policy_and_their_forms_reach_the_app(  # noqa: PLR0917 - fixtures
        new_tab: Any, make_user: Any, issue_tap: Any, other_origin: str, app: str, settings: Any,
        tmp_path: Path) -> None:
    callback, signed_out = f"{other_origin}/callback", f"{other_origin}/signed-out"
    rp, secret = app_create(display_name="Wiki", permissions=(), actor=SYSTEM, oidc=OidcRegistration(
        redirect_uris=(callback,), post_logout_redirect_uris=(signed_out,)))
    client_id = str(rp.app_id)

    # Ann has no passkey: the pass form goes on to the add-a-passkey interrupt, whose "Not now" form ends at the app.
    ann = make_user("ann@contoso.com", "Ann")
    ann_tab = new_tab()
    _authorize(ann_tab, client_id, callback)
    ann_tab.page.wait_for_url(lambda url: urlsplit(url).path == "/signin")
    ann_tab.page.click("#tap-link")
    ann_tab.page.fill("#upn", "ann@contoso.com")
    ann_tab.page.fill("#tap", issue_tap(ann))
    ann_tab.page.click("button[type=submit]")
    ann_tab.page.wait_for_selector("#not-now")
    _shot(ann_tab, tmp_path / "add-passkey-prompt.png")
    ann_tab.page.click("#not-now")
    ann_tab.page.wait_for_url(lambda url: url.startswith(callback + "?"))
    assert "code" in parse_qs(urlsplit(ann_tab.page.url).query)

    # Ben has a passkey (not on this browser): the pass form itself ends at the app.
    ben = make_user("ben@contoso.com", "Ben")
    with software_relying_party(settings):
        register(ben, authenticator_for(ben), name="Ben's key", session_key="reg-ben")
    ben_tab = new_tab()
    _authorize(ben_tab, client_id, callback)
    ben_tab.page.wait_for_url(lambda url: urlsplit(url).path == "/signin")
    ben_tab.page.click("#tap-link")
    ben_tab.page.fill("#upn", "ben@contoso.com")
    ben_tab.page.fill("#tap", issue_tap(ben))
    ben_tab.page.click("button[type=submit]")
    ben_tab.page.wait_for_url(lambda url: url.startswith(callback + "?"))
    assert "code" in parse_qs(urlsplit(ben_tab.page.url).query)

    # Step-up (the app asks for phishing-resistant MFA; Ben signed in with a pass), a block, an unusable request.
    _authorize(ben_tab, client_id, callback, acr_values=PHISHING_RESISTANT_MFA_ID)
    ben_tab.page.wait_for_selector("#stepup-requirements")
    _shot(ben_tab, tmp_path / "step-up.png")
    blocked, _ = app_create(display_name="Payroll", permissions=(), actor=SYSTEM,
                            oidc=OidcRegistration(redirect_uris=(callback,)))
    ca_policy_create(body={"displayName": "No payroll from here", "state": "enabled",
                           "conditions": {"users": {"includeUsers": ["All"]},
                                          "applications": {"includeApplications": [str(blocked.app_id)]}},
                           "grantControls": {"operator": "OR", "builtInControls": ["block"]}}, actor=SYSTEM)
    _authorize(ben_tab, str(blocked.app_id), callback)
    ben_tab.page.wait_for_selector("#blocked-reason")
    _authorize(ben_tab, client_id, f"{other_origin}/not-registered")
    ben_tab.page.wait_for_selector("#oidc-error")

    # The sign-out confirmation (a hint that is not Ben's: he is asked), whose form ends at the app.
    hint = _id_token(ann_tab, app, client_id, secret or "", callback)
    ben_tab.goto("/oidc/logout?" + urlencode({"id_token_hint": hint, "post_logout_redirect_uri": signed_out,
                                               "state": "bye"}))
    ben_tab.page.wait_for_selector("#logout-confirm")
    _shot(ben_tab, tmp_path / "logout-confirm.png")
    ben_tab.page.click("#logout-confirm")
    ben_tab.page.wait_for_url(lambda url: url.startswith(signed_out + "?"))
    assert ben_tab.page.inner_text("#landed") == "/signed-out"


def _id_token(tab: Any, origin: str, client_id: str, secret: str, callback: str) -> str:
    """An ID token for the person signed in on ``tab`` (already past the interrupt: straight to the app)."""
    verifier, challenge = pkce()
    tab.goto("/oidc/authorize?" + urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": callback, "scope": "openid",
        "state": "s", "nonce": "n", "code_challenge": challenge, "code_challenge_method": "S256"}))
    tab.page.wait_for_url(lambda url: url.startswith(callback + "?"))
    code = parse_qs(urlsplit(tab.page.url).query)["code"][0]
    response = requests.post(f"{origin}/oidc/token", timeout=10, data={  # the app's back channel: no cookies
        "grant_type": "authorization_code", "code": code, "redirect_uri": callback, "code_verifier": verifier},
        headers={"Authorization": basic(client_id, secret)})
    assert response.status_code == 200, response.text
    return str(response.json()["id_token"])
