"""Conditional Access in the admin centre: policies, authentication strengths and the "what if" tool, through the
same services as the Graph API."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.access.models import AccessPolicy, StrengthPolicy
from passgate.access.selectors import ca_policies, strengths
from passgate.core.access import ADMIN_CENTRE_APP_ID, REGISTER_SECURITY_INFO
from tests.admin.conftest import CAA, GA, GR, as_post, form_fields, text_of

pytestmark = pytest.mark.django_db
PHISHING_RESISTANT = "00000000-0000-0000-0000-000000000004"


def replace(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    return [(n, value if n == name else v) for n, v in fields]


def new_policy_fields(client: Any) -> list[tuple[str, str]]:
    fields = form_fields(client.get("/admin/conditional-access/new"), "ca-form")
    assert ("state", "enabledForReportingButNotEnforced") in fields  # a new policy starts report-only
    return fields


def test_create_a_report_only_policy_for_the_pilot_group_then_turn_it_on(world: Any, admin_as: Any) -> None:
    client, _ = admin_as(CAA)
    assert "There are no Conditional Access policies yet" in text_of(client.get("/admin/conditional-access"))
    fields = replace(new_policy_fields(client), "name", "Pilot: phishing-resistant")
    fields = replace(fields, "users", "selected")
    fields.append(("include_groups", str(world["group"].pk)))
    fields.append(("exclude_users", "sam@contoso.com"))
    created = client.post("/admin/conditional-access/new", as_post(fields))
    assert created.status_code == 302, text_of(created)
    listing = text_of(client.get("/admin/conditional-access"))
    assert "Policy “Pilot: phishing-resistant” was created (Report-only)." in listing
    assert "1 group (excluding 1)" in listing and "Require “Phishing-resistant MFA”" in listing
    (policy,) = ca_policies()
    assert policy.include_groups == (str(world["group"].pk),) and policy.exclude_users == (str(world["sam"].pk),)
    assert policy.grant_controls is not None and policy.grant_controls.authentication_strength_id == PHISHING_RESISTANT
    # Edit: the form shows what is stored; turn it on.
    page = client.get(f"/admin/conditional-access/{policy.id}")
    fields = form_fields(page, "ca-form")
    assert ("exclude_users", "sam@contoso.com") in fields
    saved = client.post(f"/admin/conditional-access/{policy.id}", as_post(replace(fields, "state", "enabled")))
    assert saved.status_code == 302
    assert ca_policies()[0].state.value == "enabled"


@pytest.mark.parametrize("choice", [("block", ""), ("strength", "mfa")])
def test_editing_a_strength_policy_to_block_or_mfa_saves_what_the_new_policy_form_would(
        choice: tuple[str, str], world: Any, admin_as: Any) -> None:
    """Issue 14 item 5: the edit is a PATCH, where the stored authenticationStrength used to survive next to
    'block' ("'block' can't be combined with an authentication strength")."""
    client, _ = admin_as(CAA)
    created = client.post("/admin/conditional-access/new",
                          as_post(replace(new_policy_fields(client), "name", "Strong sign-in")))
    assert created.status_code == 302
    (policy,) = ca_policies()
    assert policy.grant_controls is not None and policy.grant_controls.authentication_strength_id == PHISHING_RESISTANT
    grant, strength = choice
    fields = replace(form_fields(client.get(f"/admin/conditional-access/{policy.id}"), "ca-form"), "grant", grant)
    if strength:
        fields = replace(fields, "strength", strength)
    saved = client.post(f"/admin/conditional-access/{policy.id}", as_post(fields))
    assert saved.status_code == 302, text_of(saved)
    (changed,) = ca_policies()
    assert changed.grant_controls is not None and changed.grant_controls.authentication_strength_id is None
    assert changed.grant_controls.built_in_controls == (("block",) if grant == "block" else ("mfa",))
    listing = text_of(client.get("/admin/conditional-access"))
    assert ("Block access" if grant == "block" else "Require multifactor authentication") in listing


@pytest.mark.parametrize(("change", "message"), [
    ({"name": ""}, "displayName"),
    ({"users": "selected"}, "include"),
    ({"include_users": "nobody@contoso.com", "users": "selected"}, "No user is called “nobody@contoso.com”."),
    ({"strength": "11111111-2222-3333-4444-555555555555"}, "authenticationStrength"),
    ({"state": "sometimes"}, "state"),
])
def test_a_bad_policy_is_refused_on_the_form_and_nothing_is_stored(change: dict[str, str], message: str, world: Any,
                                                                   admin_as: Any) -> None:
    client, _ = admin_as(GA)
    fields = replace(new_policy_fields(client), "name", "A policy")
    data = as_post(fields)
    data.update({k: [v] for k, v in change.items()})
    response = client.post("/admin/conditional-access/new", data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert not AccessPolicy.objects.exists()


def test_a_policy_can_block_and_target_the_admin_centre_or_security_info_registration(world: Any,
                                                                                     admin_as: Any) -> None:
    client, _ = admin_as(CAA)
    fields = replace(new_policy_fields(client), "name", "Register security info from a passkey session only")
    fields = replace(fields, "target", "action")
    assert client.post("/admin/conditional-access/new", as_post(fields)).status_code == 302
    fields = replace(new_policy_fields(client), "name", "No admin centre for the pilot")
    fields = replace(replace(fields, "apps", "selected"), "grant", "block")
    fields = replace(fields, "users", "selected")
    fields += [("include_apps", ADMIN_CENTRE_APP_ID), ("include_groups", str(world["group"].pk))]
    assert client.post("/admin/conditional-access/new", as_post(fields)).status_code == 302
    action, admin_centre = ca_policies()
    assert action.include_user_actions == (REGISTER_SECURITY_INFO,)
    assert admin_centre.include_applications == ("MicrosoftAdminPortals",)
    assert admin_centre.grant_controls is not None and admin_centre.grant_controls.built_in_controls == ("block",)
    listing = text_of(client.get("/admin/conditional-access"))
    assert "Register security info" in listing and "Passgate admin centre" in listing and "Block access" in listing
    # Delete, behind a confirmation page.
    assert "Delete the policy" in text_of(client.get(f"/admin/conditional-access/{action.id}/delete"))
    assert client.post(f"/admin/conditional-access/{action.id}/delete").status_code == 302
    assert [p.id for p in ca_policies()] == [admin_centre.id]


def test_custom_strengths_with_models_by_name_and_the_built_ins_read_only(world: Any, admin_as: Any) -> None:
    client, _ = admin_as(CAA)
    listing = text_of(client.get("/admin/methods/strengths"))
    assert "such as a FIDO2 security key Built-in Passkey (FIDO2) (and 2 Entra combinations" in listing
    assert "Multifactor authentication" in listing
    fields = form_fields(client.get("/admin/methods/strengths/new"), "strength-form")
    fields = replace(replace(fields, "name", "Apple passkeys"), "aaguids", "Apple Passwords")
    created = client.post("/admin/methods/strengths/new", as_post(fields))
    assert created.status_code == 302, text_of(created)
    custom = [s for s in strengths().values() if s.policy_type == "custom"]
    assert [s.display_name for s in custom] == ["Apple passkeys"]
    assert custom[0].allowed_combinations == ("fido2",)
    assert custom[0].combination_configurations[0].allowed_aaguids == ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd",)
    assert "Passkeys: Apple Passwords" in text_of(client.get("/admin/methods/strengths"))
    # A policy requires it: then it can't be deleted, and the page says why.
    fields = replace(new_policy_fields(client), "name", "Apple only")
    fields = replace(fields, "strength", custom[0].id)
    assert client.post("/admin/conditional-access/new", as_post(fields)).status_code == 302
    refused = client.post(f"/admin/methods/strengths/{custom[0].id}/delete")
    assert refused.status_code == 400 and "Apple only" in text_of(refused)
    assert StrengthPolicy.objects.count() == 1
    # Bad input: no combination at all.
    fields = form_fields(client.get("/admin/methods/strengths/new"), "strength-form")
    fields = [(n, v) for n, v in replace(fields, "name", "Nothing") if n != "combinations"]
    response = client.post("/admin/methods/strengths/new", as_post(fields))
    assert response.status_code == 400 and "allowedCombinations" in text_of(response)


def test_what_if_shows_step_up_for_a_pass_and_allow_for_a_passkey(world: Any, admin_as: Any) -> None:
    client, _ = admin_as(CAA)
    fields = replace(new_policy_fields(client), "name", "Phishing-resistant everywhere")
    fields = replace(replace(fields, "state", "enabled"), "users", "selected")
    fields.append(("include_groups", str(world["group"].pk)))
    assert client.post("/admin/conditional-access/new", as_post(fields)).status_code == 302
    base = f"/admin/conditional-access/what-if?user=pat@contoso.com&app={ADMIN_CENTRE_APP_ID}"
    pass_only = text_of(client.get(base + "&method=tap"))
    assert "Step-up needed" in pass_only and "Phishing-resistant everywhere" in pass_only
    passkey = text_of(client.get(base + f"&method=passkey:{world['passkey'].pk}"))
    assert "Allowed" in passkey and "Granted" in passkey
    other = text_of(client.get(base.replace("pat@", "sam@") + "&method=tap"))
    assert "Allowed" in other and "Doesn't apply" in other  # Sam isn't in the pilot group
    unknown = client.get("/admin/conditional-access/what-if?user=nobody@contoso.com&app=x&method=tap")
    assert unknown.status_code == 400 and "No user is called “nobody@contoso.com”." in text_of(unknown)


def _prove(client: Any, user: Any, **use: Any) -> None:
    """Record in the client's session what it proved (as the sign-in and step-up pages do)."""
    from django.utils import timezone

    from passgate.core.access import Authentication, AuthMethodMode, MethodUse, authentication_to_json
    from passgate.web import session as web_session

    s = client.session
    s[web_session.AUTHENTICATION] = authentication_to_json(Authentication(
        user_id=str(user.pk), methods=(MethodUse(use.pop("mode", AuthMethodMode.FIDO2), timezone.now(), **use),)))
    s.save()


def test_the_admin_centre_itself_can_require_a_stronger_sign_in_or_be_blocked(world: Any, admin_as: Any,
                                                                              add_passkey: Any) -> None:
    from passgate.access.services import ca_policy_create
    from passgate.audit.models import AuditEvent
    from passgate.audit.services import Actor
    from passgate.core.access import AuthMethodMode

    root_client, root = admin_as(GA)
    add_passkey(root, name="Root key")
    reader_client, reader = admin_as(GR)
    ca_policy_create(body={
        "displayName": "Admins: phishing-resistant", "state": "enabled",
        "conditions": {"users": {"includeRoles": [GR, GA]},
                       "applications": {"includeApplications": ["MicrosoftAdminPortals"]}},
        "grantControls": {"operator": "OR", "authenticationStrength": {"id": PHISHING_RESISTANT}}},
        actor=Actor.system("test"))
    stepped = reader_client.get("/admin/users")
    assert stepped.status_code == 302
    assert stepped["Location"] == f"/signin/step-up?strength={PHISHING_RESISTANT}&next=%2Fadmin%2Fusers"
    assert AuditEvent.objects.filter(activity="adminCentre.conditionalAccess",
                                     reason="conditional_access_step_up").exists()
    _prove(reader_client, reader, mode=AuthMethodMode.TAP_ONE_TIME)
    assert reader_client.get("/admin/users").status_code == 302  # a pass isn't phishing-resistant
    _prove(reader_client, reader, aaguid="cb69481e-8ff7-4039-93ec-0a2729a154a8", device_bound=True)
    assert reader_client.get("/admin/users").status_code == 200
    # A block for the Global Reader role: a page that names the policy (the Global Administrator still gets in).
    ca_policy_create(body={
        "displayName": "Readers: no admin centre", "state": "enabled",
        "conditions": {"users": {"includeRoles": [GR]},
                       "applications": {"includeApplications": ["MicrosoftAdminPortals"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["block"]}}, actor=Actor.system("test"))
    blocked = reader_client.get("/admin/users")
    assert blocked.status_code == 403
    assert "Conditional Access blocks the admin centre for you" in text_of(blocked)
    assert "Readers: no admin centre" in text_of(blocked)
    _prove(root_client, root, aaguid="cb69481e-8ff7-4039-93ec-0a2729a154a8", device_bound=True)
    assert root_client.get("/admin/users").status_code == 200
