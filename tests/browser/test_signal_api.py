"""WebAuthn Signal API (issue 14 item 13): the browser's passkey provider hears what Passgate knows.

Chromium has ``PublicKeyCredential.signalAllAcceptedCredentials``, ``signalCurrentUserDetails`` and
``signalUnknownCredential``; each test records the calls (and passes them on to Chromium's own functions) to see
what Passgate's page script sends: after a sign-in and on Security info, the passkeys it still accepts and the
person's current names; after an assertion with a passkey it no longer knows, that one credential."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.audit.services import Actor
from passgate.credentials.models import Passkey
from passgate.credentials.selectors import b64url
from passgate.credentials.services import passkey_delete
from passgate.directory.services import user_set_upn

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD = """(() => {
  const calls = [];
  window.__signals = calls;
  for (const name of ["signalAllAcceptedCredentials", "signalCurrentUserDetails", "signalUnknownCredential"]) {
    const original = PublicKeyCredential[name];
    PublicKeyCredential[name] = function (options) {
      calls.push([name, JSON.parse(JSON.stringify(options))]);
      return original ? original.call(PublicKeyCredential, options).catch(() => undefined) : Promise.resolve();
    };
  }
  // the calls of the page that navigated away survive in sessionStorage
  window.addEventListener("pagehide", () => sessionStorage.setItem("signals",
    JSON.stringify([...JSON.parse(sessionStorage.getItem("signals") || "[]"), ...calls])));
})();"""


def recorded(tab: Any) -> list[list[Any]]:
    return list(tab.page.evaluate("""() => [...JSON.parse(sessionStorage.getItem("signals") || "[]"),
                                            ...window.__signals]"""))


def test_a_sign_in_and_security_info_tell_the_provider_what_passgate_accepts(new_tab: Any, enroll: Any) -> None:
    tab = new_tab()
    tab.context.add_init_script(RECORD)
    user, passkey = enroll(tab, "pat@contoso.com", "Pat Example")
    tab.sign_out_and_back_in_with_the_button()
    calls = recorded(tab)
    accepted = [options for name, options in calls if name == "signalAllAcceptedCredentials"]
    details = [options for name, options in calls if name == "signalCurrentUserDetails"]
    assert accepted and details, calls
    handle = b64url(bytes(user.webauthn_user_handle))
    assert accepted[-1] == {"rpId": "localhost", "userId": handle,
                            "allAcceptedCredentialIds": [b64url(bytes(passkey.credential_id))]}
    assert details[-1] == {"rpId": "localhost", "userId": handle, "name": "pat@contoso.com",
                           "displayName": "Pat Example"}


def test_a_renamed_person_and_a_deleted_passkey_reach_the_provider(new_tab: Any, enroll: Any) -> None:
    tab = new_tab()
    tab.context.add_init_script(RECORD)
    user, passkey = enroll(tab, "pat@contoso.com", "Pat Example")  # a pass session: Security info stays open
    passkey_delete(passkey=passkey, actor=Actor.system("test"))  # an administrator removed it
    user_set_upn(user=user, upn="pat.example@contoso.com", actor=Actor.system("test"))
    tab.goto("/security-info")
    tab.page.wait_for_function("() => window.__signals.length >= 2")
    assert not Passkey.objects.filter(user=user).exists()
    calls = dict([c for c in recorded(tab) if c[0] != "signalUnknownCredential"][-2:])
    assert calls["signalAllAcceptedCredentials"]["allAcceptedCredentialIds"] == []
    tab.page.wait_for_function("() => true")
    assert tab.credentials() == []  # Chromium's provider (here the virtual authenticator) dropped the passkey
    assert calls["signalCurrentUserDetails"]["name"] == "pat.example@contoso.com"


def test_an_assertion_with_a_passkey_passgate_no_longer_knows_is_signalled_unknown(new_tab: Any,
                                                                                    enroll: Any) -> None:
    tab = new_tab()
    tab.context.add_init_script(RECORD)
    _, passkey = enroll(tab, "pat@contoso.com", "Pat Example")
    credential_id = b64url(bytes(passkey.credential_id))
    passkey_delete(passkey=passkey, actor=Actor.system("test"))
    saved = tab.credentials()
    tab.clear_credentials()
    tab.sign_out()
    assert tab.wait_autofill_settled() == "ended"
    tab.add_credential(saved[0])  # the provider still holds it
    tab.page.click("#passkey-button")
    tab.page.wait_for_selector("#signin-error:not([hidden])")
    unknown = [options for name, options in recorded(tab) if name == "signalUnknownCredential"]
    assert unknown == [{"rpId": "localhost", "credentialId": credential_id}]
