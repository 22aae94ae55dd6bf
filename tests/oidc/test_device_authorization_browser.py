"""In Chromium with a virtual authenticator: a command-line tool asks for a device code while a thread polls the
token endpoint as the tool would; the person opens the verification link, signs in with a passkey on the sign-in
page it sends them to, sees the code and the app, approves, and the polling thread gets the tokens."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.oidc.conftest import b64url_json

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def test_passkey_sign_in_on_the_verification_page_approves_a_polling_device(tab: Any, enroll: Any,
                                                                             app: str) -> None:
    from django.db import connections

    from passgate.apps.services import OidcRegistration, app_create
    from passgate.audit.services import Actor

    user, _ = enroll(tab, "pat@contoso.com", "Pat Example")
    registration, _ = app_create(display_name="Deploy CLI", permissions=(), actor=Actor.system("test"),
                                 oidc=OidcRegistration(redirect_uris=("http://127.0.0.1:8765/cb",), public=True,
                                                       allow_device_code=True))
    client_id = str(registration.app_id)
    asked = requests.post(f"{app}/oidc/device_authorization", data={"client_id": client_id, "scope": "openid profile"},
                          timeout=10)
    assert asked.status_code == 200, asked.text
    answer = asked.json()

    polls: list[tuple[int, dict[str, Any]]] = []
    stop = threading.Event()

    def device() -> None:
        """The tool: poll every ``interval`` seconds until tokens or an error other than pending."""
        try:
            interval = answer["interval"]
            while not stop.is_set():
                response = requests.post(f"{app}/oidc/token", data={
                    "grant_type": DEVICE_GRANT, "device_code": answer["device_code"], "client_id": client_id},
                    timeout=10)
                polls.append((response.status_code, response.json()))
                error = response.json().get("error")
                if error == "slow_down":
                    interval += 5
                elif error != "authorization_pending":
                    return
                stop.wait(interval)
        finally:
            connections.close_all()

    poller = threading.Thread(target=device)
    poller.start()
    try:
        # Signed out, the passkey off the authenticator until the sign-in page's autofill request has ended, so the
        # sign-in below comes from the button.
        saved = tab.credentials()
        tab.clear_credentials()
        tab.sign_out()
        link = urlsplit(answer["verification_uri_complete"])
        tab.goto(f"{link.path}?{link.query}")
        tab.page.wait_for_url(lambda url: urlsplit(url).path == "/signin")
        assert tab.wait_autofill_settled() == "ended"
        tab.add_credential(saved[0])
        tab.page.click("#passkey-button")
        tab.page.wait_for_url(lambda url: urlsplit(url).path == "/device")
        assert tab.page.input_value("#user_code") == answer["user_code"]
        tab.page.click("#device-continue")
        assert tab.page.text_content("#device-app") == "Deploy CLI"
        assert tab.page.text_content("#device-code") == answer["user_code"]
        tab.page.click("#device-approve")
        assert "signed in to Deploy CLI" in (tab.page.text_content("#device-result") or "")
        deadline = time.monotonic() + 30
        while poller.is_alive() and time.monotonic() < deadline:
            poller.join(timeout=0.5)
    finally:
        stop.set()
        poller.join(timeout=30)

    assert polls and polls[0][0] == 400 and polls[0][1]["error"] == "authorization_pending"  # before Pat approved
    status, tokens = polls[-1]
    assert status == 200, tokens
    claims = b64url_json(tokens["id_token"], 1)
    assert claims["sub"] == str(user.pk) and claims["aud"] == client_id and claims["name"] == "Pat Example"
    assert claims["acr"] == "00000000-0000-0000-0000-000000000004"
    assert claims["amr"] == ["hwk", "mfa", "user"]  # the virtual authenticator's passkey is device-bound
    assert "refresh_token" not in tokens  # no offline_access asked
    userinfo = requests.get(f"{app}/oidc/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"},
                            timeout=10)
    assert userinfo.json()["sub"] == str(user.pk)
