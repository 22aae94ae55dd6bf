"""Real-browser fixtures: Playwright driving Debian's Chromium, with the CDP WebAuthn virtual authenticator.

A plugin loaded once from tests/conftest.py (``pytest_plugins``), so every folder shares one session browser:
two session fixtures would start two Playwright instances in one thread, which Playwright's sync API refuses.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from tests.conftest import loud_skip

CHROMIUM = os.environ.get("PASSGATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
# Playwright's sync API keeps an event loop in the test thread; the ORM calls the tests make are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")



@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        loud_skip("BROWSER TESTS", f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def app(live_server: Any, settings: Any) -> str:
    """The live server, with the relying party set to its localhost origin."""
    origin = live_server.url.replace("127.0.0.1", "localhost")
    settings.PASSGATE = dataclasses.replace(settings.PASSGATE, origin=origin, rp_id="localhost", extra_origins=())
    settings.CSRF_TRUSTED_ORIGINS = [origin]
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    return origin


# Reports every navigator.credentials call and every button/link click to the test, across navigations,
# so a test can tell the autofill (conditional) request from the "Sign in with a passkey" button.
_WATCH_SCRIPT = """
(() => {
  const report = (event) => {
    try { window.__pgReport(Object.assign({path: location.pathname}, event)); } catch (e) {}
  };
  const creds = navigator.credentials;
  if (creds) {
    const get = creds.get.bind(creds), create = creds.create.bind(creds);
    creds.get = (options) => {
      report({op: "get", mediation: (options && options.mediation) || ""});
      return get(options);
    };
    creds.create = (options) => { report({op: "create"}); return create(options); };
  }
  document.addEventListener("click", (e) => {
    const el = e.target && e.target.closest ? e.target.closest("button, a") : null;
    if (el) report({op: "click", id: el.id || "", text: (el.textContent || "").trim()});
  }, true);
  document.addEventListener("securitypolicyviolation", (e) => {
    report({op: "csp", directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile || "",
            line: e.lineNumber || 0, sample: e.sample || ""});
  }, true);
})();
"""
# What the browser says in the console when a Content-Security-Policy or Permissions-Policy refuses something.
_POLICY_CONSOLE = ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy", "Permissions policy")

# A selector, not a wait_for_function: the pages' policy has no 'unsafe-eval', which Playwright's polling needs.
AUTOFILL_SETTLED = "body[data-autofill=ended], body[data-autofill=aborted], body[data-autofill=unavailable]"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Tab:
    """One browser context + page with a virtual authenticator attached through CDP."""

    def __init__(self, browser: Any, origin: str) -> None:
        self.origin = origin
        self.context = browser.new_context()
        self.events: list[dict[str, Any]] = []

        def report(event: dict[str, Any]) -> None:  # a plain function: Playwright tags the callable it is given
            self.events.append(event)

        self.context.expose_function("__pgReport", report)
        self.context.add_init_script(_WATCH_SCRIPT)
        self.policy_problems: list[str] = []  # CSP violations, policy console errors, pages without a CSP
        self.context.on("console", self._console)
        self.context.on("response", self._response)
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.authenticator_id: str | None = None

    def _console(self, message: Any) -> None:
        if any(marker in message.text for marker in _POLICY_CONSOLE):
            self.policy_problems.append(f"console {message.type}: {message.text}")

    def _response(self, response: Any) -> None:
        """Every document Passgate sends carries its Content-Security-Policy."""
        if response.request.resource_type == "document" and response.url.startswith(self.origin + "/") \
                and "content-security-policy" not in response.headers:
            self.policy_problems.append(f"no Content-Security-Policy on {response.status} {_path(response.url)}")

    def csp_violations(self) -> list[str]:
        """Every policy problem seen so far: violation events on any page, the console's policy errors, and
        Passgate documents without a Content-Security-Policy header."""
        events = [f"violation of {e['directive']} on {e['path']}: blocked {e['blocked'] or '(inline)'} "
                  f"{e['source']}:{e['line']} {e['sample']}".rstrip()
                  for e in self.events if e["op"] == "csp"]
        return events + self.policy_problems

    def add_authenticator(self, *, transport: str = "internal", user_verification: bool = True,
                          backup_eligible: bool = False, protocol: str = "ctap2") -> str:
        options: dict[str, Any] = {
            "protocol": protocol, "transport": transport, "hasResidentKey": True,
            "hasUserVerification": user_verification, "isUserVerified": user_verification,
            "automaticPresenceSimulation": True,
        }
        if protocol == "ctap2":
            options["ctap2Version"] = "ctap2_1"
        if backup_eligible:
            options.update(defaultBackupEligibility=True, defaultBackupState=True)
        self.authenticator_id = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})[
            "authenticatorId"]
        return self.authenticator_id

    def remove_authenticator(self) -> None:
        if self.authenticator_id:
            self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.authenticator_id})
            self.authenticator_id = None

    def credentials(self) -> list[dict[str, Any]]:
        return list(self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})[
            "credentials"])

    def add_credential(self, credential: dict[str, Any]) -> None:
        self.cdp.send("WebAuthn.addCredential", {"authenticatorId": self.authenticator_id,
                                                 "credential": credential})

    def clear_credentials(self) -> None:
        self.cdp.send("WebAuthn.clearCredentials", {"authenticatorId": self.authenticator_id})

    def set_user_verified(self, verified: bool) -> None:
        self.cdp.send("WebAuthn.setUserVerified", {"authenticatorId": self.authenticator_id,
                                                    "isUserVerified": verified})

    def set_response_override_bits(self, **bits: bool) -> None:
        """isBogusSignature / isBadUV / isBadUP: the authenticator's next responses carry these defects."""
        self.cdp.send("WebAuthn.setResponseOverrideBits", {"authenticatorId": self.authenticator_id, **bits})

    def goto(self, path: str) -> None:
        self.page.goto(self.origin + path)

    def path(self) -> str:
        """Path and query of the page's URL."""
        return _path(self.page.url)

    def wait_for_path(self, path: str) -> None:
        """Wait until the page's path and query are exactly ``path`` (a glob like **/security-info would also
        match /signin/reauth?next=/security-info)."""
        self.page.wait_for_url(lambda url: _path(url) == path)

    def wait_autofill_settled(self) -> str:
        """Wait until the sign-in page's conditional-mediation request is over; return how it ended."""
        self.page.wait_for_selector(AUTOFILL_SETTLED, state="attached")
        return str(self.page.evaluate("document.body.dataset.autofill"))

    def webauthn_calls(self, path: str = "/signin") -> list[str]:
        """The mediation ("conditional" or "") of each navigator.credentials.get() made on ``path``."""
        return [e["mediation"] for e in self.events if e["op"] == "get" and e["path"] == path]

    def clicks(self, element_id: str) -> int:
        return sum(1 for e in self.events if e["op"] == "click" and e["id"] == element_id)

    def session_key(self) -> str | None:
        return next((c["value"] for c in self.context.cookies() if c["name"] == "passgate_session"), None)

    def post_json(self, path: str, body: str) -> tuple[int, dict[str, Any]]:
        """POST a raw JSON body from the page, with this page's own CSRF token and cookies."""
        result = self.page.evaluate(
            """async ([url, body]) => {
                 const res = await fetch(url, {method: "POST", credentials: "same-origin", body,
                   headers: {"Content-Type": "application/json",
                             "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content}});
                 return [res.status, await res.text()];
               }""", [path, body])
        return int(result[0]), json.loads(result[1])

    def tap_sign_in(self, upn: str, tap: str) -> None:
        self.goto(f"/signin/tap?upn={upn}")
        self.page.fill("#tap", tap)
        self.page.click("button[type=submit]")

    def add_passkey(self, name: str = "Test passkey") -> None:
        self.goto("/security-info")
        self.page.fill("#passkey-name", name)
        self.page.click("#add-passkey")

    def sign_out(self) -> None:
        """Sign out and wait for the sign-in page (its autofill may sign straight back in afterwards)."""
        with self.page.expect_navigation(url=lambda url: _path(url) == "/signin"):
            self.page.click("text=Sign out")

    def sign_out_and_back_in_with_the_button(self) -> None:
        """Sign out, let the sign-in page's autofill request end (no passkey to offer while the authenticator is
        emptied), then sign back in with the "Sign in with a passkey" button: only the button signs in."""
        saved = self.credentials()
        self.clear_credentials()
        self.sign_out()
        assert self.wait_autofill_settled() == "ended"
        self.add_credential(saved[0])
        self.page.click("#passkey-button")
        self.wait_for_path("/security-info")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def new_tab(chromium: Any, app: str) -> Iterator[Any]:
    tabs: list[Tab] = []

    def make() -> Tab:
        tab = Tab(chromium, app)
        tabs.append(tab)
        return tab

    yield make
    problems = [problem for tab in tabs for problem in tab.csp_violations()]
    for tab in tabs:
        tab.close()
    if problems:  # every browser test is also a Content-Security-Policy test
        pytest.fail("policy problems in the browser:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def tab(new_tab: Any) -> Tab:
    return new_tab()


@pytest.fixture
def enroll(make_user: Any, issue_tap: Any) -> Callable[..., Any]:
    """New user, TAP sign-in, one passkey added: returns (user, passkey); the tab stays signed in (TAP session)."""

    def run(tab: Tab, upn: str, display_name: str = "Test User", passkey_name: str = "Work laptop",
            **authenticator: Any) -> tuple[Any, Any]:
        from passgate.credentials.models import Passkey

        user = make_user(upn, display_name)
        if tab.authenticator_id is None:
            tab.add_authenticator(**authenticator)
        tab.tap_sign_in(upn, issue_tap(user))
        tab.wait_for_path("/security-info")
        tab.add_passkey(passkey_name)
        tab.page.wait_for_selector(f"text=Passkey “{passkey_name}” added.")
        return user, Passkey.objects.get(user=user, display_name=passkey_name)

    return run


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def demo(app: str) -> Iterator[tuple[str, Any]]:
    """The demo app on its own port, registered with the live Passgate as ``passgate demo-app`` does it."""
    from passgate.cli.commands import demo_registration
    from passgate.demo.app import DemoApp

    server: WSGIServer = make_server("127.0.0.1", 0, lambda environ, start: [], handler_class=_Quiet)
    base_url = f"http://localhost:{server.server_port}"
    registration = demo_registration(base_url)
    server.set_app(DemoApp(issuer=app, client_id=str(registration.app_id), base_url=base_url))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base_url, registration
    server.shutdown()
    server.server_close()
