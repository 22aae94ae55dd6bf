"""Real-browser fixtures: Playwright driving Debian's Chromium, with the CDP WebAuthn virtual authenticator."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import loud_skip

CHROMIUM = os.environ.get("PASSGATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
# Playwright's sync API keeps an event loop in the test thread; the ORM calls the tests make are synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.browser


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


class Tab:
    """One browser context + page with a virtual authenticator attached through CDP."""

    def __init__(self, browser: Any, origin: str) -> None:
        self.origin = origin
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.set_default_timeout(10_000)
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.authenticator_id: str | None = None

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

    def goto(self, path: str) -> None:
        self.page.goto(self.origin + path)

    def tap_sign_in(self, upn: str, tap: str) -> None:
        self.goto(f"/signin/tap?upn={upn}")
        self.page.fill("#tap", tap)
        self.page.click("button[type=submit]")

    def add_passkey(self, name: str = "Test passkey") -> None:
        self.goto("/security-info")
        self.page.fill("#passkey-name", name)
        self.page.click("#add-passkey")

    def sign_out(self) -> None:
        self.page.click("text=Sign out")
        self.page.wait_for_url("**/signin")

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
    for tab in tabs:
        tab.close()


@pytest.fixture
def tab(new_tab: Any) -> Tab:
    return new_tab()
