"""Rows an older Passgate could store on SQLite: JSON documents holding a lone surrogate (``"\\ud800"``, which
json.dumps writes as an ASCII escape). Every page, Graph endpoint and command that shows them must still answer,
with U+FFFD in its place (PostgreSQL's jsonb refuses such escapes, so there the rows cannot exist)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from passgate.access.models import AccessPolicy, StrengthPolicy
from passgate.apps.models import AppRegistration
from passgate.audit.models import AuditEvent, SignInEvent
from passgate.audit.services import NO_CONTEXT, Actor
from passgate.audit.signins import SignInError, signin_record
from passgate.credentials import policy_selectors
from passgate.credentials.models import PolicyVersion
from passgate.credentials.policy import policy_update
from passgate.freshness.generation import clear_process_cache
from tests.admin.conftest import GA

MARK = "PLANTED"
LONE = "\ud800"
SHOWN = "\ufffd".encode()


def _plant(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(MARK, LONE)
    if isinstance(value, dict):
        return {_plant(k): _plant(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plant(v) for v in value]
    return value


def plant_rows(world: dict[str, Any]) -> dict[str, str]:
    """An older version's rows: every JSON document with a lone surrogate where MARK was."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's jsonb refuses lone surrogates: no such row can exist there")
    policy_update(body={"passkeyProfiles": [
        {"id": "00000000-0000-0000-0000-000000000001", "name": "Default passkey profile",
         "passkeyTypes": "deviceBound,synced"},
        {"name": f"Keys {MARK}", "passkeyTypes": "deviceBound"}]}, method_id="fido2", actor=Actor.system("test"))
    version = PolicyVersion.objects.order_by("-version").first()
    assert version is not None and MARK in json.dumps(version.document)
    PolicyVersion.objects.filter(pk=version.pk).update(document=_plant(version.document),
                                                       changes=_plant(version.changes))
    policy_selectors._parsed.clear()  # as after a restart: the version is read from its row again
    for row in AuditEvent.objects.all():
        AuditEvent.objects.filter(pk=row.pk).update(details=_plant({**row.details, "note": f"n {MARK}",
                                                                    f"key {MARK}": [MARK]}))
    for model, key in ((StrengthPolicy, "strength"), (AccessPolicy, "capolicy")):
        row = model.objects.get(pk=world[key].id)
        model.objects.filter(pk=row.pk).update(document=_plant({**row.document, "description": f"d {MARK}"}
                                                               if key == "strength" else row.document | {
                                                                   "displayName": f"Pilot {MARK}"}))
    clear_process_cache()  # as after a restart
    AppRegistration.objects.filter(pk=world["app"].pk).update(
        redirect_uris=[f"https://wiki.contoso.test/cb{LONE}"])
    event = signin_record(user_id=str(world["pat"].pk), user_principal_name="pat@contoso.com", app_id="x",
                          app_display_name="Wiki", context=NO_CONTEXT, succeeded=False,
                          error_code=SignInError.OTHER, applied_policies=[
                              {"id": world["capolicy"].id, "displayName": "Pilot", "result": "reportOnlyFailure",
                               "enforcedGrantControls": ["RequireAuthenticationStrength"], "reason": "why"}])
    SignInEvent.objects.filter(pk=event.pk).update(
        applied_policies=_plant([{**event.applied_policies[0], "displayName": f"Pilot {MARK}"}]),
        authentication_details=[{"authenticationMethod": f"Passkey {LONE}", "succeeded": False}])
    audit = AuditEvent.objects.order_by("-occurred_at").first()
    assert audit is not None
    return {"audit": str(audit.pk), "signin": str(event.pk), "strength": world["strength"].id,
            "policy": world["capolicy"].id, "app": str(world["app"].pk), "app_id": str(world["app"].app_id)}


@pytest.mark.django_db
def test_every_page_and_graph_endpoint_shows_planted_rows(access_world: dict[str, Any],
                                                          admin_as: Any) -> None:
    ids = plant_rows(access_world)
    client, _ = admin_as(GA, client=Client(raise_request_exception=False))
    shown = {
        "/v1.0/policies/authenticationMethodsPolicy": True,
        "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2": True,
        "/v1.0/auditLogs/directoryAudits": True,
        f"/v1.0/auditLogs/directoryAudits/{ids['audit']}": True,
        "/v1.0/policies/authenticationStrengthPolicies": True,
        f"/v1.0/policies/authenticationStrengthPolicies/{ids['strength']}": True,
        "/v1.0/identity/conditionalAccess/policies": True,
        f"/v1.0/identity/conditionalAccess/policies/{ids['policy']}": True,
        "/v1.0/auditLogs/signIns": True,
        f"/beta/auditLogs/signIns/{ids['signin']}": True,
        "/v1.0/applications": True,
        f"/v1.0/applications/{ids['app']}": True,
        "/admin": False,
        "/admin/audit": True,
        "/admin/methods": False,
        "/admin/methods/passkey": True,
        "/admin/conditional-access": True,
        f"/admin/conditional-access/{ids['policy']}": True,
        "/admin/methods/strengths": False,
        f"/admin/methods/strengths/{ids['strength']}": True,
        "/admin/sign-ins": False,
        f"/admin/sign-ins/{ids['signin']}": True,
        "/admin/apps": False,
        f"/admin/apps/{ids['app']}": True,
        "/admin/users": False,
        f"/admin/users/{access_world['pat'].pk}": False,
    }
    for path, shows_it in shown.items():
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        if shows_it:
            content = response.content
            assert SHOWN in content or b"\\ufffd" in content, path


@pytest.mark.django_db(transaction=True)
def test_every_command_shows_planted_rows(access_world: dict[str, Any], capsys: Any) -> None:
    from passgate.cli import main

    ids = plant_rows(access_world)
    for argv in (["audit", "tail", "--limit", "100"], ["audit", "tail", "--json"], ["audit", "signins"],
                 ["audit", "signins", "--json"], ["apps", "list"], ["apps", "list", "--json"],
                 ["apps", "show", ids["app_id"]], ["apps", "show", ids["app_id"], "--json"]):
        code = main(argv)
        out, err = capsys.readouterr()
        assert (code, err) == (0, ""), argv
        out.encode("utf-8")
