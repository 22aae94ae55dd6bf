"""Every page, as a person on a phone sees it (issue 14 items 9 and 12).

Each HTML page Passgate serves is opened in Chromium at 390 px: it must not scroll sideways (the document's
``scrollWidth``; a wide table scrolls inside its own ``.table-wrap`` box), and axe-core (the npm package, injected
into the page) must find no serious or critical violation. ``test_every_page_route_is_visited_or_excused`` keeps
the list whole: a new page route fails it until it is visited here or excused with a reason.

axe-core comes from ``tests/browser/js`` (``npm ci`` there; ``.ci/run`` and ``scripts/test`` do it). Without it the
browser test skips loudly outside CI and fails in CI.

    pytest tests/browser/test_every_page.py --basetemp=/tmp/pages   (phone screenshots in /tmp/pages/*/)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from passgate.audit.services import Actor
from passgate.directory.models import DirectoryRole
from tests.browser.phone import PHONE, too_wide

pytestmark = [pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
SYSTEM = Actor.system("test")
SERIOUS = ("serious", "critical")

# A path for each page route, from the world the test builds (None: the route itself is the path).
World = dict[str, Any]
PAGES: dict[str, Callable[[World], str] | None] = {
    "": lambda w: "/",
    "signin": None,
    "signin/tap": None,
    "signin/reauth": lambda w: "/signin/reauth?next=/security-info",
    "signin/step-up": lambda w: f"/signin/step-up?strength={w['yubikeys'].id}&next=/security-info",
    "security-info": None,
    "security-info/authenticator-app/new": None,
    "oidc/authorize": lambda w: "/oidc/authorize?client_id=not-a-client",  # the page for a request it can't use
    "device": lambda w: "/device?user_code=BCDF-GHJK",  # the code entry (confirm: test_device_authorization_browser)
    "admin": None,
    "admin/users": None,
    "admin/users/new": None,
    "admin/users/<uuid:user_id>": lambda w: f"/admin/users/{w['pat'].pk}",
    "admin/users/<uuid:user_id>/tap": lambda w: f"/admin/users/{w['pat'].pk}/tap",
    "admin/users/<uuid:user_id>/passkeys/<uuid:passkey_id>":
        lambda w: f"/admin/users/{w['admin'].pk}/passkeys/{w['passkey'].pk}",
    "admin/groups": None,
    "admin/groups/new": None,
    "admin/groups/<uuid:group_id>": lambda w: f"/admin/groups/{w['group'].pk}",
    "admin/apps": None,
    "admin/apps/new": None,
    "admin/apps/<uuid:app_id>": lambda w: f"/admin/apps/{w['app'].pk}",
    "admin/devices": None,
    "admin/devices/add": None,
    "admin/devices/configuration": None,
    "admin/devices/configuration/new": None,
    "admin/devices/configuration/<uuid:configuration_id>":
        lambda w: f"/admin/devices/configuration/{w['profile'].id}",
    "admin/devices/enrollment": None,
    "admin/devices/<uuid:device_id>": lambda w: f"/admin/devices/{w['device'].pk}",
    "admin/roles": None,
    "admin/roles/<uuid:role_id>": lambda w: f"/admin/roles/{DirectoryRole.USER_ADMINISTRATOR.value}",
    "admin/methods": None,
    "admin/methods/strengths": None,
    "admin/methods/strengths/new": None,
    "admin/methods/strengths/<uuid:strength_id>": lambda w: f"/admin/methods/strengths/{w['yubikeys'].id}",
    "admin/methods/strengths/<uuid:strength_id>/delete":
        lambda w: f"/admin/methods/strengths/{w['yubikeys'].id}/delete",
    "admin/methods/passkey": None,
    "admin/methods/temporary-access-pass": None,
    "admin/methods/authenticator-app": None,
    "admin/audit": None,
    "admin/sign-ins": None,
    "admin/sign-ins/<uuid:signin_id>": lambda w: f"/admin/sign-ins/{w['signin'].pk}",
    "admin/reports/untrusted-models": None,
    "admin/reports/passkey-redundancy": None,
    "admin/conditional-access": None,
    "admin/conditional-access/new": None,
    "admin/conditional-access/what-if": None,
    "admin/conditional-access/<uuid:policy_id>": lambda w: f"/admin/conditional-access/{w['capolicy'].id}",
    "admin/conditional-access/<uuid:policy_id>/delete":
        lambda w: f"/admin/conditional-access/{w['capolicy'].id}/delete",
    "no/such/page": None,  # the 404 page
}

# Routes that are not pages a person opens, with why.
EXCUSED = {
    "healthz": "plain text for load balancers", "readyz": "JSON for load balancers", "metrics": "Prometheus text",
    "signout": "POST only", "admin/": "redirects to /admin",
    "signin/reauth/tap": "POST only (the re-authentication page's form)",
    "signin/reauth/code": "POST only (the re-authentication page's form)",
    "signin/add-passkey": "shown only inside an app sign-in that requires a passkey: "
                          "tests/browser/test_policy_enforcement.py drives it",
    "oidc/logout": "redirects, or the confirmation page (oidc/logout/confirm)",
    "oidc/logout/confirm": "POST only",
    "security-info/sign-out-everywhere": "POST only",
    "security-info/redundancy-nudge/dismiss": "POST only (the nudge's Not now)",
    "^admin/conditional-access/strengths(?P<rest>(/.*)?)$": "a permanent redirect to admin/methods/strengths",
    ".well-known/openid-configuration": "JSON", ".well-known/oauth-authorization-server": "JSON",
    "<str:tenant>/v2.0/.well-known/openid-configuration": "JSON", "oidc/jwks": "JSON", "oidc/token": "JSON",
    "oidc/introspect": "JSON", "oidc/userinfo": "JSON", "oidc/device_authorization": "JSON",
}
POST_OR_JSON_SUFFIXES = ("/options", "/verify", "/delete", "/rename", "/remove", "/members", "/account", "/upn",
                         "/revoke-sessions", "/secret", "/groups", "/assignments", "/revoke")


def _routes(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            found += _routes(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            found.append((prefix + str(p.pattern), p.callback))
    return found


def page_routes() -> list[str]:
    """Every route of the web product that could be a page (not the Graph or device APIs, not a form's POST target
    or a WebAuthn JSON endpoint by its name)."""
    routes = []
    for route, view in _routes(get_resolver().url_patterns):
        module = getattr(view, "__module__", "")
        if not module.startswith("passgate.web") and "admin/" not in route:
            continue
        if route.endswith(POST_OR_JSON_SUFFIXES) and route not in PAGES:
            continue
        routes.append(route)
    return routes


def test_every_page_route_is_visited_or_excused() -> None:
    missing = [r for r in page_routes() if r not in PAGES and r not in EXCUSED]
    assert not missing, f"page routes neither visited by test_every_page nor excused: {missing}"
    stale = [r for r in [*PAGES, *EXCUSED] if r not in page_routes() and r != "no/such/page"]
    assert not stale, f"routes listed here that no longer exist: {stale}"


def _world(make_user: Any, admin: Any) -> World:
    from passgate.access.services import ca_policy_create, strength_create
    from passgate.apps.services import OidcRegistration, app_create
    from passgate.audit.services import RequestContext
    from passgate.audit.signins import SignInError, signin_record
    from passgate.credentials.models import Passkey
    from passgate.directory.services import group_add_member, group_create
    from tests.admin.devices_support import join, security_key_profile

    pat = make_user("pat@contoso.com", "Pat Example")
    group = group_create(display_name="Pilot group with a long name for narrow screens", actor=SYSTEM)
    group_add_member(group=group, user=pat, actor=SYSTEM)
    yubikeys = strength_create(body={"displayName": "YubiKeys only", "allowedCombinations": ["fido2"],
                                     "combinationConfigurations": [{"appliesToCombinations": ["fido2"],
                                                                    "allowedAAGUIDs": [
                                                                        "cb69481e-8ff7-4039-93ec-0a2729a154a8"]}]},
                               actor=SYSTEM)
    capolicy = ca_policy_create(body={
        "displayName": "Pilot: YubiKeys for every app", "state": "enabledForReportingButNotEnforced",
        "conditions": {"users": {"includeGroups": [str(group.pk)]}, "applications": {"includeApplications": ["All"]}},
        "grantControls": {"operator": "OR", "authenticationStrength": {"id": yubikeys.id}}}, actor=SYSTEM)
    app, _ = app_create(display_name="Wiki", permissions=["User.Read.All"], actor=SYSTEM,
                        oidc=OidcRegistration(redirect_uris=("https://wiki.contoso.test/oidc/callback/with/a/long/path",)))
    device = join("build-07-with-a-long-host-name.lab.contoso.test", groups=(group,))
    profile = security_key_profile(groups=(group,))
    signin = signin_record(user_id=str(pat.pk), user_principal_name=pat.user_principal_name, app_id=str(app.app_id),
                           app_display_name=app.display_name, context=RequestContext(ip_address="203.0.113.9",
                                                                                     user_agent="Mozilla/5.0"),
                           succeeded=False, error_code=SignInError.STRONG_AUTHENTICATION_REQUIRED)
    return {"admin": admin, "pat": pat, "group": group, "yubikeys": yubikeys, "capolicy": capolicy, "app": app,
            "device": device, "profile": profile, "signin": signin,
            "passkey": Passkey.objects.filter(user=admin).first()}


def _axe(page: Any, source: str) -> list[str]:
    page.evaluate(source)  # through the DevTools protocol: the page's Content-Security-Policy does not apply
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                       nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [f"{v['impact']} {v['id']} ({v['help']}): {v['nodes']}" for v in result if v["impact"] in SERIOUS]


@pytest.mark.browser
def test_every_page_fits_a_phone_and_has_no_serious_accessibility_violation(
        new_tab: Any, make_user: Any, issue_tap: Any, tmp_path: Path) -> None:
    from tests.admin.test_browser_admin import sign_in_as_admin

    if not AXE.exists():
        message = f"!!! axe-core is not installed ({AXE}): run npm ci in tests/browser/js"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    source = AXE.read_text()
    tab = new_tab()
    admin = sign_in_as_admin(tab, make_user, issue_tap, "ada@contoso.com", "Ada Lovelace")
    world = _world(make_user, admin)
    anonymous = new_tab()
    problems: dict[str, list[str]] = {}
    for route, make in PAGES.items():
        path = make(world) if make else "/" + route
        who = anonymous if route.startswith(("signin", "no/such")) and route != "signin/step-up" else tab
        who.page.set_viewport_size(PHONE)
        response = who.page.goto(who.origin + path)
        assert response is not None
        found = []
        if response.status >= 500:
            found.append(f"HTTP {response.status}")
        found += too_wide(who.page)
        found += _axe(who.page, source)
        name = "".join(c if c.isalnum() or c == "-" else "_" for c in route) or "home"
        who.page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True, animations="disabled")
        if found:
            problems[f"{path} ({uuid.uuid4().hex[:4]})" if path in problems else path] = found
    report = "\n".join(f"{path}:\n  " + "\n  ".join(found) for path, found in problems.items())
    assert not problems, f"{len(problems)} of {len(PAGES)} pages at 390 px:\n{report}"


@pytest.mark.django_db(transaction=True)
def test_security_infos_buttons_share_one_line_at_desktop_width(new_tab: Any, enroll: Any, tmp_path: Path) -> None:
    """Issue 14 item 9: "Add authenticator app" wrapped under the passkey form at 1280 px; at 390 px they stack."""
    tab = new_tab()
    enroll(tab, "pat@contoso.com", "Pat Example")
    tab.goto("/security-info")
    tab.page.set_viewport_size({"width": 1280, "height": 800})
    passkey, app = (tab.page.locator(s).bounding_box() for s in ("#add-passkey", "#add-authenticator-app"))
    assert passkey is not None and app is not None
    assert abs(passkey["y"] - app["y"]) < 4 and app["x"] > passkey["x"], (passkey, app)
    tab.page.set_viewport_size(PHONE)
    assert not too_wide(tab.page)
