"""The response headers on every route (passgate.web.security_headers): every URL pattern of the URLconf, walked
from Django's resolver (so a new route is covered without anyone adding it here), asked anonymously, from a
signed-in Global Administrator's browser session and with an app token holding every Graph permission, by GET and
by POST; none may fail (5xx), and each answer must carry the header set of its kind: a page (text/html), anything
else (JSON, Graph, OpenID Connect, text, empty answers), or a static file. Then HSTS with an https and an http origin.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.http.everything import one_of_everything

pytestmark = pytest.mark.django_db

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; "
            "require-trusted-types-for 'script'; trusted-types 'none'")
OTHER_CSP = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS_POLICY = ("publickey-credentials-create=(self), publickey-credentials-get=(self), camera=(), "
                      "microphone=(), geolocation=(), payment=(), usb=()")
EVERYWHERE = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
              "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Resource-Policy": "same-origin"}
PAGE = {**EVERYWHERE, "Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store", "X-Frame-Options": "DENY",
        "Permissions-Policy": PERMISSIONS_POLICY}
OTHER = {**EVERYWHERE, "Content-Security-Policy": OTHER_CSP, "Cache-Control": "no-store", "X-Frame-Options": "DENY"}
STATIC = {**EVERYWHERE, "Content-Security-Policy": OTHER_CSP, "X-Frame-Options": "DENY"}
# The only answers a cache may keep: public documents, the same for everyone (OpenID Connect discovery, JWKS, the
# tenant document MSAL reads for Graph apps).
PUBLIC_DOCUMENTS = {"/.well-known/openid-configuration": "public, max-age=300", "/oidc/jwks": "public, max-age=300",
                    "/.well-known/oauth-authorization-server": "public, max-age=300",
                    "/common/v2.0/.well-known/openid-configuration": "public, max-age=300"}
# Regex routes cannot be filled in from their converters: each gets an example path here (a new one fails below).
REGEX_ROUTES = {r"^(?P<version>v1\.0|beta)(?:/(?P<rest>.*))?$": ["v1.0/noSuchSegment", "beta/noSuchSegment/x", "v1.0",
                                                                  "beta/"],
                r"^admin/conditional-access/strengths(?P<rest>(/.*)?)$": ["admin/conditional-access/strengths",
                                                                         "admin/conditional-access/strengths/new"]}


def expected_headers(response: Any, path: str, method: str) -> dict[str, str]:
    """The header set an answer must carry, by its kind."""
    if response.get("Content-Type", "").startswith("text/html"):
        return PAGE
    if method == "GET" and response.status_code == 200 and path in PUBLIC_DOCUMENTS:
        return {**OTHER, "Cache-Control": PUBLIC_DOCUMENTS[path]}
    return OTHER


def header_problems(response: Any, expected: dict[str, str], *, hsts: bool) -> list[str]:
    problems = [f"{name}: {response.get(name)!r}, not {value!r}" for name, value in expected.items()
                if response.get(name) != value]
    if "Permissions-Policy" not in expected and response.has_header("Permissions-Policy"):
        problems.append("Permissions-Policy on a non-page")
    if response.get("Strict-Transport-Security") != (HSTS if hsts else None):
        problems.append(f"Strict-Transport-Security: {response.get('Strict-Transport-Security')!r}")
    return problems


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    from django.urls import URLResolver
    from django.urls.resolvers import RoutePattern

    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern.pattern, RoutePattern):
            yield prefix + str(pattern.pattern), pattern
        else:
            examples = REGEX_ROUTES.get(str(pattern.pattern))
            assert examples is not None, f"add example paths for the regex route {pattern.pattern} to REGEX_ROUTES"
            for example in examples:
                yield prefix + example, pattern


def every_path(values: dict[str, str]) -> list[str]:
    """Every URL pattern of the URLconf as a path, its parameters filled from ``values`` (by name)."""
    from django.urls import get_resolver

    paths = []
    for route, _ in _routes(get_resolver().url_patterns):
        missing = [name for name in re.findall(r"<(?:\w+:)?(\w+)>", route) if name not in values]
        assert not missing, f"no value for the path parameter {missing[0]!r} of {route!r}: add one to " \
                            "tests/http/everything.py"
        paths.append("/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route))
    return paths


def identities(admin: Any) -> dict[str, Client]:
    from passgate.core.graph.authz import Permission
    from tests.admin.conftest import start_session
    from tests.graph.conftest import issue_token

    token = issue_token(*[p.value for p in Permission])
    return {"anonymous": Client(raise_request_exception=False),
            "signed in": start_session(Client(raise_request_exception=False), admin),
            "app token": Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {token}")}


def _ask(client: Client, method: str, path: str, identity: str) -> Any:
    if method == "GET":
        return client.get(path)
    if identity == "app token":
        return client.post(path, data="{}", content_type="application/json")
    return client.post(path, {})


def _order(path: str) -> tuple[bool, str]:
    """Deleting and signing out last, so the objects and the session the other routes use are still there."""
    return ("delete" in path.lower() or path in ("/signout", "/oidc/logout/confirm")), path


def test_every_route_answers_with_the_headers_of_its_kind(make_user: Any, issue_tap: Any) -> None:
    values, admin = one_of_everything(make_user, issue_tap)
    paths = sorted(set(every_path(values)), key=_order)
    assert len(paths) > 150  # the web pages, the admin centre, OpenID Connect, Graph (v1.0 and beta)
    clients = identities(admin)
    problems, kinds = [], {"page": 0, "other": 0}
    for method in ("GET", "POST"):
        for path in paths:
            for identity, client in clients.items():
                response = _ask(client, method, path, identity)
                if response.status_code >= 500:
                    problems.append(f"{method} {path} ({identity}): {response.status_code}")
                expected = expected_headers(response, path, method)
                kinds["page" if expected is PAGE else "other"] += 1
                problems += [f"{method} {path} ({identity}, {response.status_code}): {problem}"
                             for problem in header_problems(response, expected, hsts=True)]
    assert not problems, "\n".join(problems)
    assert kinds["page"] > 100 and kinds["other"] > 300  # both kinds were really asked


def test_error_answers_carry_the_headers_too(settings: Any) -> None:
    """Answers made before or around the views: unknown paths, a wrong method, a refused Host, a CSRF refusal."""
    strict = Client(enforce_csrf_checks=True)
    cases = {
        "unknown page": Client().get("/no-such-page"),
        "unknown Graph path": Client().get("/v1.0/noSuchThing"),
        "unknown static file": Client().get("/static/passgate/no-such-file.css"),
        "wrong method": Client().put("/signin"),
        "refused Host": Client().get("/signin", HTTP_HOST="evil.example.net"),
        "CSRF refusal (form)": strict.post("/signin/tap", {"upn": "x", "tap": "y"}),
        "CSRF refusal (JSON)": strict.post("/signin/passkey/options", data="{}", content_type="application/json"),
    }
    problems = [f"{name} ({response.status_code}): {problem}" for name, response in cases.items()
                for problem in header_problems(response, expected_headers(response, "", "GET"), hsts=True)]
    assert not problems, "\n".join(problems)
    assert {name: response.status_code for name, response in cases.items()} == {
        "unknown page": 404, "unknown Graph path": 401, "unknown static file": 404, "wrong method": 405,
        "refused Host": 400, "CSRF refusal (form)": 403, "CSRF refusal (JSON)": 403}


def static_files() -> list[str]:
    from django.contrib.staticfiles import finders

    found = [path for finder in finders.get_finders() for path, _ in finder.list([])]
    assert found, "no static files found"
    return sorted(found)


def test_static_files_keep_their_caching_and_get_the_non_page_policy() -> None:
    problems = []
    for name in static_files():
        response = Client().get("/static/" + name)
        assert response.status_code == 200, name
        problems += [f"/static/{name}: {p}" for p in header_problems(response, STATIC, hsts=True)]
        cache = response.get("Cache-Control", "")
        if "public" not in cache or "max-age=" not in cache or "no-store" in cache:
            problems.append(f"/static/{name}: Cache-Control {cache!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("origin, hsts", [("https://id.contoso.test", True), ("http://localhost:8000", False)])
def test_hsts_only_when_the_public_origin_is_https(settings: Any, origin: str, hsts: bool) -> None:
    settings.PASSGATE = dataclasses.replace(settings.PASSGATE, origin=origin, extra_origins=())
    answers = {"page": Client().get("/signin"), "JSON": Client().get("/oidc/jwks"),
               "Graph": Client().get("/v1.0/users"), "redirect": Client().get("/security-info"),
               "static": Client().get("/static/passgate/passgate.css")}
    assert {kind: r.get("Strict-Transport-Security") for kind, r in answers.items()} == dict.fromkeys(
        answers, HSTS if hsts else None)


def test_pages_hold_no_inline_script_style_or_event_handler() -> None:
    """What the policies forbid is absent from the sources too: the templates, the demo app's pages, the scripts
    (no string-to-HTML or string-to-code sinks: Trusted Types refuse them)."""
    from passgate.demo.app import _error, _home

    package = Path(__file__).resolve().parents[2] / "passgate"
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.I)
    demo_pages = {"demo /": _home({}), "demo / signed in": _home({"signed_in": {"claims": {"sub": "x"}}}),
                  "demo error": _error("x")}
    sources = {**{str(path.relative_to(package)): path.read_text(encoding="utf-8")
                  for path in package.glob("web/templates/**/*.html")}, **demo_pages}
    found = [f"{name}: {m.group(0)!r}" for name, text in sources.items() for m in inline.finditer(text)]
    assert not found, found
    scripts = list(package.glob("web/static/**/*.js"))
    assert scripts
    sinks = re.compile(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(")
    assert not [str(p) for p in scripts if sinks.search(p.read_text(encoding="utf-8"))]


def test_a_new_route_without_a_value_for_its_parameter_is_named() -> None:
    """The walk refuses to skip a route it cannot fill in: a parameter without a value is an error naming it."""
    with pytest.raises(AssertionError, match="no value for the path parameter "):
        every_path({})


@pytest.fixture(autouse=True)
def https_origin(settings: Any) -> None:
    """tests/http's relying party is https://login.example.com: HSTS is expected unless a test says otherwise."""
    assert settings.PASSGATE.origin.startswith("https://")

