"""node openid-client (npm) as a relying party, in CI (issue 12): a confidential client that does what an app
developer writes with it: discovery, the code flow with PKCE, state and nonce, ID token validation, UserInfo, a
refresh, introspection and revocation of its own token, and RP-initiated logout. A person signs in to it with their
passkey in Chromium. The RP is tests/browser/js/openid_client_rp.mjs; ``npm ci`` in tests/browser/js installs the
library (scripts/test does); without node or the library these tests skip loudly outside CI and fail in CI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from passgate.apps.models import OidcGrant
from passgate.apps.services import OidcRegistration, app_create
from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from tests.conftest import loud_skip
from tests.processes import free_port, wait_listening

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
JS = Path(__file__).parent / "js"
RP = JS / "openid_client_rp.mjs"


@pytest.fixture
def relying_party(app: str) -> Iterator[Any]:
    """``start()``: the node RP on a free port, registered as a confidential client of the live Passgate."""
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "openid-client").exists():
        loud_skip("OPENID-CLIENT RELYING PARTY TEST", "it needs node and npm ci in tests/browser/js")
    processes: list[subprocess.Popen[bytes]] = []

    def start() -> tuple[str, Any]:
        port = free_port()
        registration, secret = app_create(
            display_name="openid-client app", permissions=[], actor=Actor.system("browser test"),
            oidc=OidcRegistration(redirect_uris=(f"http://127.0.0.1:{port}/callback",),
                                  post_logout_redirect_uris=(f"http://127.0.0.1:{port}/bye",)))
        assert secret is not None
        process = subprocess.Popen([str(node), str(RP)], cwd=JS, start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env={"PATH": os.environ["PATH"], "ISSUER": app, "PORT": str(port),
                                        "CLIENT_ID": str(registration.app_id), "CLIENT_SECRET": secret})
        processes.append(process)
        wait_listening(port, process, timeout=30)  # type: ignore[arg-type]
        return f"http://127.0.0.1:{port}", registration

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)


def test_openid_client_signs_a_person_in_with_their_passkey_and_uses_every_endpoint(
        new_tab: Any, enroll: Any, relying_party: Any) -> None:
    site, registration = relying_party()
    tab = new_tab()
    user, _ = enroll(tab, "pat@contoso.com", "Pat Example")
    tab.sign_out_and_back_in_with_the_button()  # a passkey session: the app gets a phishing-resistant sign-in

    tab.page.goto(f"{site}/login")
    tab.page.wait_for_url(lambda u: u.startswith(f"{site}/callback"), timeout=30_000)
    body = tab.page.inner_text("body")
    assert body.startswith("{"), body  # else openid-client's own error message
    result = json.loads(body)
    assert result["sub"] == result["userinfo_sub"] == result["refreshed_id_token_sub"] == str(user.pk)
    assert result["name"] == "Pat Example" and result["userinfo_email"] == "pat@contoso.com"
    assert result["acr"] == "00000000-0000-0000-0000-000000000004" and result["sid"]
    assert result["refreshed_has_new_refresh"] is True  # rotation
    assert result["introspection_active"] is True and result["introspection_client"] == str(registration.app_id)
    assert result["active_after_revocation"] is False
    grant = OidcGrant.objects.get(app=registration)
    assert grant.sid == result["sid"]
    assert {e.activity for e in AuditEvent.objects.filter(result="success")} >= {
        "oidc.authorize", "oidc.token", "oidc.introspect", "oidc.revoke"}

    tab.page.goto(result["logout_url"])  # RP-initiated logout with the (refreshed) ID token as hint
    tab.page.wait_for_url(f"{site}/bye", timeout=30_000)
    assert tab.page.inner_text("body") == "signed out"
    assert AuditEvent.objects.filter(activity="oidc.logout", result="success").exists()
