"""Apache httpd with Debian's mod_auth_openidc as a relying party, in its stock configuration: a confidential client
(client_secret_basic), a nonce, no PKCE option set. A person signs in to the protected site with their passkey in
Chromium, and the site sees who they are; the audit log has the code Passgate issued without PKCE, as RFC 9700
§2.1.1 allows with a nonce. With ``@passgate.requirePkce`` on the app, the same stock Apache is refused, and says so.

Needs Debian's apache2 and libapache2-mod-auth-openidc (``.ci/run`` installs them); outside CI their absence skips
these tests loudly. Apache runs as www-data from a folder of its own on a free port, started and stopped here.

With ``Require claim acr:`` and ``OIDCUnAutzAction auth`` (step-up as mod_auth_openidc's own sample configuration
describes it), a person whose sign-in does not meet the value is sent back to Passgate again and again: Passgate
stops that loop with a page after a few rounds; and with ``OIDCPathAuthRequestParams claims=...`` carrying an
essential ``acr`` (OIDC Core §5.5.1.1), Passgate steps the person up with their passkey and the site opens."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from passgate.apps.models import AppRegistration, AuthorizationCode
from passgate.apps.services import OidcRegistration, app_create
from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core.access.strengths import PHISHING_RESISTANT_MFA_ID
from passgate.core.oidc import LOOP_LIMIT
from tests.conftest import loud_skip
from tests.processes import free_port, wait_listening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
APACHE = Path("/usr/sbin/apache2")
MODULES = Path("/usr/lib/apache2/modules")
CGI = """#!/bin/sh
printf 'Content-Type: text/plain\\r\\n\\r\\n'
printf 'user=%s\\n' "$REMOTE_USER"
printf 'acr=%s\\n' "$OIDC_CLAIM_acr"
printf 'name=%s\\n' "$OIDC_CLAIM_name"
"""


class Apache:
    def __init__(self, root: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.root, self.port, self.process = root, port, process
        self.url = f"http://localhost:{port}/protected/whoami"

    def log(self) -> str:
        path = self.root / "error.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""


@pytest.fixture
def apache(app: str) -> Iterator[Any]:
    """``start(app)``: Apache on a free port protecting /protected with mod_auth_openidc against the live Passgate,
    as the registered ``app`` (a confidential OpenID Connect client)."""
    if not (APACHE.exists() and (MODULES / "mod_auth_openidc.so").exists()):
        loud_skip("APACHE RELYING PARTY TESTS", "they need Debian's apache2 and libapache2-mod-auth-openidc")
    if os.geteuid() != 0:
        loud_skip("APACHE RELYING PARTY TESTS", "they start Apache as root, which then runs as www-data")
    started: list[Apache] = []

    def start(registration: AppRegistration, secret: str, port: int, *, server: str = "",
              location: str = "Require valid-user") -> Apache:
        root = Path(tempfile.mkdtemp(prefix="passgate-apache-"))
        root.chmod(0o755)  # www-data reads the site; pytest's own folders are root's alone
        (root / "cgi").mkdir(mode=0o755)
        (root / "cgi" / "whoami").write_text(CGI)
        (root / "cgi" / "whoami").chmod(0o755)
        config = root / "httpd.conf"
        config.write_text(f"""
ServerRoot "{root}"
ServerName localhost
Listen 127.0.0.1:{port}
PidFile "{root}/httpd.pid"
ErrorLog "{root}/error.log"
LogLevel warn auth_openidc:info
User www-data
Group www-data
LoadModule mpm_prefork_module {MODULES}/mod_mpm_prefork.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule alias_module {MODULES}/mod_alias.so
LoadModule cgi_module {MODULES}/mod_cgi.so
LoadModule auth_openidc_module {MODULES}/mod_auth_openidc.so
DocumentRoot "{root}"
ScriptAlias /protected/whoami "{root}/cgi/whoami"
OIDCProviderMetadataURL {app}/.well-known/openid-configuration
OIDCClientID {registration.app_id}
OIDCClientSecret {secret}
OIDCRedirectURI http://localhost:{port}/protected/redirect_uri
OIDCCryptoPassphrase {secrets.token_urlsafe(24)}
OIDCScope "openid profile email"
OIDCRemoteUserClaim preferred_username
{server}
<Location /protected>
  AuthType openid-connect
  {location}
</Location>
""")
        process = subprocess.Popen([str(APACHE), "-f", str(config), "-DFOREGROUND"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True,
                                   env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"})
        running = Apache(root, port, process)
        started.append(running)
        try:
            wait_listening(port, process, timeout=30)  # type: ignore[arg-type]
        except AssertionError:
            pytest.fail(f"Apache did not start:\n{running.log()}")
        return running

    yield start
    for running in started:
        if running.process.poll() is None:
            os.killpg(running.process.pid, signal.SIGTERM)
            try:
                running.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(running.process.pid, signal.SIGKILL)
                running.process.wait(timeout=15)
        shutil.rmtree(running.root, ignore_errors=True)


def _register(port: int, *, require_pkce: bool = False) -> tuple[AppRegistration, str]:
    app, secret = app_create(display_name="Apache site", permissions=[], actor=Actor.system("browser test"),
                             oidc=OidcRegistration(redirect_uris=(f"http://localhost:{port}/protected/redirect_uri",),
                                                   require_pkce=require_pkce))
    assert secret is not None
    return app, secret


def test_apache_mod_auth_openidc_signs_a_person_in_with_their_passkey(new_tab: Any, enroll: Any,
                                                                     apache: Any) -> None:
    port = free_port()
    registration, secret = _register(port)
    site = apache(registration, secret, port)
    tab = new_tab()
    enroll(tab, "pat@contoso.com", "Pat Example")
    tab.sign_out_and_back_in_with_the_button()

    tab.page.goto(site.url)  # the site sends the browser to Passgate, which answers with a code at once
    tab.page.wait_for_url(lambda u: u.startswith(site.url), timeout=30_000)

    body = tab.page.inner_text("body")
    assert "user=pat@contoso.com" in body, (body, site.log())
    assert "name=Pat Example" in body
    assert "acr=urn:" not in body and "acr=00000000-0000-0000-0000-000000000004" in body, body  # phishing-resistant
    code = AuthorizationCode.objects.get(grant__app=registration)
    assert code.code_challenge == "" and code.nonce  # stock mod_auth_openidc: a nonce, no PKCE
    assert AuditEvent.objects.filter(activity="oidc.token", result="success").exists()


def test_an_app_that_requires_pkce_refuses_the_stock_configuration(new_tab: Any, enroll: Any, apache: Any) -> None:
    port = free_port()
    registration, secret = _register(port, require_pkce=True)
    site = apache(registration, secret, port)
    tab = new_tab()
    enroll(tab, "pat@contoso.com", "Pat Example")  # signed in to Passgate: straight to the authorization answer

    tab.page.goto(site.url)
    tab.page.wait_for_url(lambda u: u.startswith(f"http://localhost:{port}/"), timeout=30_000)

    page = tab.page.inner_text("body")
    assert "user=pat@contoso.com" not in page and "Error" in page
    # Passgate's answer, at the site's redirect URI. (mod_auth_openidc 2.4.12 then shows an error of its own: it
    # takes an error response carrying RFC 9207's iss for a third-party-initiated login; the site stays closed.)
    answer = parse_qs(urlsplit(tab.page.url).query)
    assert answer["error"] == ["invalid_request"] and "requires PKCE" in answer["error_description"][0]
    assert not AuthorizationCode.objects.exists()
    assert AuditEvent.objects.filter(activity="oidc.authorize", reason="pkce_required_for_app").exists()


def test_require_claim_acr_without_asking_for_it_is_stopped_with_a_page_not_a_loop(new_tab: Any, enroll: Any,
                                                                                    apache: Any) -> None:
    """The person signed in with a Temporary Access Pass (multifactor); the site requires phishing-resistant MFA
    but never asks for it, so each ID token is refused and the person sent back (283 round trips in 20 s before)."""
    port = free_port()
    registration, secret = _register(port)
    site = apache(registration, secret, port, server="OIDCUnAutzAction auth",
                  location=f"Require claim acr:{PHISHING_RESISTANT_MFA_ID}")
    tab = new_tab()
    enroll(tab, "pat@contoso.com", "Pat Example")  # a pass sign-in, a passkey added

    tab.page.goto(site.url)
    tab.page.wait_for_selector("text=keeps sending you back", timeout=30_000)

    assert tab.page.url.startswith(tab.origin + "/oidc/authorize")
    text = tab.page.inner_text("main")
    assert "Apache site keeps sending you back" in text, text
    assert "didn't ask for any particular sign-in strength" in text
    assert AuthorizationCode.objects.filter(grant__app=registration).count() == LOOP_LIMIT
    assert AuditEvent.objects.filter(activity="oidc.authorize", reason="authorize_loop").exists()


def test_require_claim_acr_with_an_essential_acr_claim_steps_the_person_up(new_tab: Any, enroll: Any,
                                                                           apache: Any) -> None:
    port = free_port()
    registration, secret = _register(port)
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": [PHISHING_RESISTANT_MFA_ID]}}},
                        separators=(",", ":"))
    site = apache(registration, secret, port,
                  server=f"OIDCUnAutzAction auth\nOIDCPathAuthRequestParams claims={quote(claims, safe='')}",
                  location=f"Require claim acr:{PHISHING_RESISTANT_MFA_ID}")
    tab = new_tab()
    enroll(tab, "pat@contoso.com", "Pat Example")  # a pass sign-in: multifactor, not phishing-resistant

    tab.page.goto(site.url)
    tab.page.wait_for_url(lambda url: "/signin/step-up" in url, timeout=30_000)
    assert "Phishing-resistant MFA" in tab.page.inner_text("main")
    tab.page.click("#stepup-button")
    tab.page.wait_for_url(lambda u: u.startswith(site.url), timeout=30_000)

    body = tab.page.inner_text("body")
    assert "user=pat@contoso.com" in body and f"acr={PHISHING_RESISTANT_MFA_ID}" in body, (body, site.log())
    assert AuthorizationCode.objects.filter(grant__app=registration).count() == 1  # no loop
    assert not AuditEvent.objects.filter(reason="authorize_loop").exists()
