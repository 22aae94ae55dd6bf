"""The README's promise, end to end: the real `passgate serve` (gunicorn, 2 worker processes) on a fresh data
directory, driven by headless Chromium and the real CLI exactly as the README tells a new user.

1. First start prints a Global Administrator and a one-time TAP with its URL.
2. The admin signs in with the TAP, adds and names a passkey, signs out, signs back in with the passkey alone.
3. The admin adds a user and a group with the CLI and issues a TAP; the user registers a passkey the same way.
"""

from __future__ import annotations

import json
import re
import signal
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import (
    cli,
    free_port,
    passgate_env,
    scratch_database,
    started,
    stop,
    wait_for_output,
    wait_listening,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    port = free_port()
    with scratch_database(tmp_path, "readme") as database_url:
        # No PASSGATE_ORIGIN: as in the README, serve derives http://localhost:<port> itself.
        env = passgate_env(tmp_path / "data", database_url)
        log = tmp_path / "serve.log"
        with started(["serve", "--port", str(port)], env, log) as proc:
            banner = wait_for_output(log, proc, "Passgate listening on")
            tap = re.search(r"Temporary Access Pass:\s+(\S+)", banner)
            url = re.search(r"Use it at:\s+(\S+)", banner)
            assert tap and url, f"no first-start banner in:\n{banner}"
            _wait_healthy(port)
            cli_env = {**env, "PASSGATE_ORIGIN": f"http://localhost:{port}"}  # the CLI names the same origin
            yield {"origin": f"http://localhost:{port}", "tap": tap.group(1), "url": url.group(1),
                   "cli": lambda *args: cli(cli_env, *args), "banner": banner, "env": env}
            assert stop(proc, signal.SIGINT) == 0, log.read_text()[-3000:]  # gunicorn: quick shutdown


def _wait_healthy(port: int) -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server never became healthy")


def _browser_tab(chromium: Any) -> tuple[Any, Any]:
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}})
    return context, page


def _register_and_return_with_passkey(page: Any, tap_url: str, tap: str, passkey_name: str) -> None:
    page.goto(tap_url)
    page.fill("#tap", tap)
    page.click("button[type=submit]")
    page.wait_for_url("**/security-info")
    page.fill("#passkey-name", passkey_name)
    page.click("#add-passkey")
    page.wait_for_selector(f"text=Passkey “{passkey_name}” added.")
    page.click("text=Sign out")
    # The sign-in page's passkey autofill (conditional mediation) signs the person straight back in.
    page.wait_for_url("**/security-info")
    assert page.locator("table.methods .passkey-name").first.inner_text() == passkey_name
    assert "Never" not in page.inner_text("table.methods")  # "Last used" is filled: the passkey signed in


def test_readme_first_start_admin_and_a_new_user(server: dict[str, Any], chromium: Any) -> None:
    assert "admin@localhost" in server["banner"]
    assert server["url"] == f"{server['origin']}/signin/tap?upn=admin@localhost"

    context, page = _browser_tab(chromium)
    _register_and_return_with_passkey(page, server["url"], server["tap"], "Admin laptop")
    assert "Administrator" in page.inner_text("header")
    context.close()

    cli = server["cli"]
    cli("users", "add", "grace@contoso.com", "--display-name", "Grace Hopper")
    cli("groups", "add", "Passkey pilot")
    cli("groups", "add-member", "Passkey pilot", "grace@contoso.com")
    assert "grace@contoso.com" in cli("groups", "members", "Passkey pilot")
    issued = json.loads(cli("tap", "issue", "--user", "grace@contoso.com", "--json"))

    context, page = _browser_tab(chromium)
    _register_and_return_with_passkey(page, issued["url"], issued["temporaryAccessPass"], "Grace's phone")
    assert "Grace Hopper" in page.inner_text("header")
    context.close()

    audit = json.loads(cli("audit", "tail", "--limit", "100", "--json"))
    activities = [(e["activity"], e["result"]) for e in audit]
    assert activities.count(("passkey.register", "success")) == 2
    assert activities.count(("passkey.signIn", "success")) == 2
    assert activities.count(("tap.signIn", "success")) == 2


def test_readme_demo_app_signs_in_through_passgate_and_conditional_access_steps_up(
        server: dict[str, Any], chromium: Any, tmp_path: Path) -> None:
    """README, "Sign in to web apps": `passgate demo-app` beside `passgate serve`; the demo signs in with a passkey;
    a Conditional Access policy made with the Graph API requires phishing-resistant MFA for it; a pass session is
    then stepped up to the passkey."""
    context, page = _browser_tab(chromium)
    try:
        demo_port = free_port()
        env = {**server["env"], "PASSGATE_ORIGIN": server["origin"]}
        log = tmp_path / "demo.log"
        with started(["demo-app", "--port", str(demo_port)], env, log) as demo:
            _register_and_return_with_passkey(page, server["url"], server["tap"], "Admin laptop")
            demo_url = f"http://localhost:{demo_port}"
            wait_for_output(log, demo, "Open http://localhost")
            client_id = re.search(r"public client: (\S+)", log.read_text())
            assert client_id, log.read_text()
            wait_listening(demo_port, demo)
            page.goto(demo_url + "/")
            page.click("#login")
            page.wait_for_selector("#welcome")
            assert "00000000-0000-0000-0000-000000000004" in page.inner_text("#claims")

            cli = server["cli"]
            created = json.loads(cli("apps", "add", "--name", "CA admin", "--permission",
                                     "Policy.ReadWrite.ConditionalAccess", "--json"))
            form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": created["appId"],
                                           "client_secret": created["clientSecret"],
                                           "scope": "https://graph.microsoft.com/.default"}).encode()
            with urllib.request.urlopen(f"{server['origin']}/oauth2/v2.0/token", form, timeout=10) as r:  # noqa: S310
                token = json.load(r)["access_token"]
            body = json.dumps({"displayName": "Demo: phishing-resistant", "state": "enabled",
                               "conditions": {"users": {"includeUsers": ["All"]},
                                              "applications": {"includeApplications": [client_id.group(1)]}},
                               "grantControls": {"operator": "OR", "authenticationStrength": {
                                   "id": "00000000-0000-0000-0000-000000000004"}}}).encode()
            request = urllib.request.Request(  # noqa: S310 - the test's own http URL
                f"{server['origin']}/v1.0/identity/conditionalAccess/policies", body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 - the test's own http URL
                assert r.status == 201
            # A new pass session for the admin: the demo now asks for the passkey first.
            issued = json.loads(cli("tap", "issue", "--user", "admin@localhost", "--json"))
            page.click("#logout")
            page.goto(issued["url"])
            page.fill("#tap", issued["temporaryAccessPass"])
            page.click("button[type=submit]")
            page.wait_for_url("**/security-info")
            page.goto(demo_url + "/login")
            page.wait_for_url("**/signin/step-up**")
            page.click("#stepup-button")
            page.wait_for_selector("#welcome")
            claims = page.inner_text("#claims")
            assert '"otp"' in claims and '"hwk"' in claims
            signins = json.loads(cli("audit", "signins", "--app", client_id.group(1), "--json"))
            assert [s["errorCode"] for s in signins][-2:] == [50074, 0]
            assert stop(demo, signal.SIGINT) == 0, log.read_text()
    finally:
        context.close()
