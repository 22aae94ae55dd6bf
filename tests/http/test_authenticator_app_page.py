"""The add-an-authenticator-app page when the set-up can't go on: a code posted for a set-up that is gone, by
someone the policy no longer allows authenticator apps, gets the page that says so (403), never a 500."""

from __future__ import annotations

import html
from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.credentials.models import SoftwareOathMethod
from passgate.credentials.policy import policy_update

pytestmark = pytest.mark.django_db


def test_a_code_for_a_gone_set_up_when_the_policy_refuses_gets_the_refusal_page(signed_in: Any) -> None:
    client, user, _, _ = signed_in
    assert client.get("/security-info/authenticator-app/new").status_code == 200  # allowed: a set-up starts
    policy_update(method_id="SoftwareOath", actor=Actor.system("test"), body={"state": "disabled"})
    response = client.post("/security-info/authenticator-app/new", {"method": "not-a-set-up", "code": "123456"})
    assert response.status_code == 403
    page = html.unescape(response.content.decode())
    assert "You can't add an authenticator app" in page and "doesn't allow authenticator apps" in page
    assert not SoftwareOathMethod.objects.filter(user=user, is_verified=True).exists()
    assert AuditEvent.objects.filter(activity="softwareOath.register", reason="policy_method_not_allowed").exists()
