"""One of every kind of object a URL names (shared by the header tests over HTTP and in the browser)."""

from __future__ import annotations

import base64
import time
from typing import Any


def one_of_everything(make_user: Any, issue_tap: Any) -> tuple[dict[str, str], Any]:
    """Real objects for every path parameter, and a Global Administrator (with a passkey) to sign in as."""
    from django.conf import settings

    from passgate.access.services import ca_policy_create, strength_create
    from passgate.apps.app_roles import app_role_assign
    from passgate.apps.exposed_api import ApiExposure
    from passgate.apps.services import OidcRegistration, app_create, app_update
    from passgate.audit.models import Category
    from passgate.audit.services import Actor, RequestContext, audit_record
    from passgate.audit.signins import signin_record
    from passgate.core import totp
    from passgate.core.app_roles import AppRole
    from passgate.core.graph.organization import tenant_id
    from passgate.core.roles import assignment_id, find_role
    from passgate.credentials import oath
    from passgate.credentials.models import TemporaryAccessPass
    from passgate.device_config.services import device_configuration_create
    from passgate.directory.models import DirectoryRole
    from passgate.directory.services import group_add_member, group_create, role_assignment_create
    from tests.graph.methods import stored_oath, stored_passkey
    from tests.services.support import authenticator_for, register

    system = Actor.system("test")
    admin = make_user(upn="ada@contoso.com", display_name="Ada", roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    register(admin, authenticator_for(admin), name="Ada's key", session_key="reg-admin")
    target = make_user(upn="pat@contoso.com", display_name="Pat")
    passkey = register(target, authenticator_for(target), name="Pat's key", session_key="reg-pat")
    enrolment = oath.software_oath_enrol_begin(user=target)
    text = enrolment.secret_text.replace(" ", "")
    seed = base64.b32decode(text + "=" * (-len(text) % 8))
    method = oath.software_oath_enrol_complete(user=target, method_id=enrolment.method.id,
                                               code=totp.code_at(seed, time.time() - 30))
    issue_tap(target)
    member = make_user(upn="sam@contoso.com", display_name="Sam")
    group = group_create(display_name="Pilot", actor=system)
    group_add_member(group=group, user=member, actor=system)
    reader = DirectoryRole.GLOBAL_READER.value
    role_assignment_create(role=find_role(reader), user=member, actor=system)
    yubikey = {"appliesToCombinations": ["fido2"], "allowedAAGUIDs": ["cb69481e-8ff7-4039-93ec-0a2729a154a8"]}
    strength = strength_create(body={"displayName": "Keys", "allowedCombinations": ["fido2"],
                                     "combinationConfigurations": [yubikey]}, actor=system)
    policy = ca_policy_create(body={
        "displayName": "Keys for all", "state": "disabled",
        "conditions": {"users": {"includeUsers": ["All"]}, "applications": {"includeApplications": ["All"]}},
        "grantControls": {"operator": "OR", "authenticationStrength": {"id": strength.id}}}, actor=system)
    app, _ = app_create(display_name="Wiki", permissions=[], actor=system,
                        oidc=OidcRegistration(redirect_uris=("https://wiki.contoso.test/cb",)))
    editor = AppRole(id="5f1c2f43-3c52-4c8e-9b0f-7a4f3f3a1b2c", value="Wiki.Edit", display_name="Editors")
    app = app_update(app=app, actor=system, api=ApiExposure(roles=(editor,)))
    app_role = app_role_assign(app=app, app_role_id=editor.id, principal=target, actor=system)
    signin = signin_record(user_id=str(target.pk), user_principal_name=target.user_principal_name,
                           app_id=str(app.app_id), app_display_name="Wiki", context=RequestContext(), succeeded=True)
    audit = audit_record(category=Category.SYSTEM, activity="test.event")
    tap = TemporaryAccessPass.objects.filter(user=target).latest("created_at")
    profile = device_configuration_create(body={"@odata.type": "#microsoft.graph.windows10CustomConfiguration",
                                                "displayName": "Keys on"}, actor=system)
    device, token = _device()
    values = {
        "user_id": str(target.pk), "passkey_id": str(passkey.pk), "method_id": str(method.pk),
        "group_id": str(group.pk), "app_id": str(app.pk), "signin_id": str(signin.pk), "strength_id": strength.id,
        "policy_id": policy.id,
        # Graph's parameters (strings, as Graph names them)
        "application_id": str(app.pk), "authentication_method_configuration_id": "fido2",
        "authentication_strength_policy_id": strength.id,
        "authentication_combination_configuration_id": strength.combination_configurations[0].id,
        "conditional_access_policy_id": policy.id, "organization_id": tenant_id(settings.PASSGATE.origin),
        "directory_audit_id": str(audit.pk), "directory_object_id": str(member.pk),
        "fido2_authentication_method_id": str(stored_passkey(target).id), "sign_in_id": str(signin.pk),
        "software_oath_authentication_method_id": str(stored_oath(target).id),
        "temporary_access_pass_authentication_method_id": str(tap.pk), "challenge_timeout_in_minutes": "10",
        "tenant": "common", "device_configuration_id": profile.id,
        "device_enrollment_configuration_id": "DefaultWindowsHelloForBusiness",
        "device_id": str(device.pk), "token_id": str(token.pk), "configuration_id": profile.id,
        "unified_role_definition_id": reader, "directory_role_id": reader, "directory_role_template_id": reader,
        "unified_role_assignment_id": assignment_id(reader, str(member.pk)), "role_id": reader,
        "app_role_assignment_id": str(app_role.pk),  # the user's (under /groups/{id}/…: 404)
    }
    return values, admin


def _device() -> tuple[Any, Any]:
    """A joined device (in no group) and the enrollment token it joined with."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from passgate.audit.services import Actor
    from passgate.core.devices.keys import jwk_of
    from passgate.devices.services import device_join, enrollment_token_issue

    token, plain = enrollment_token_issue(actor=Actor.system("test"), uses=2, description="Lab")
    device = device_join(body={"enrollmentToken": plain, "displayName": "build-07", "operatingSystem": "Linux",
                               "operatingSystemVersion": "Debian 12",
                               "publicKey": jwk_of(ec.generate_private_key(ec.SECP256R1()).public_key())})
    return device, token
