"""Every resource the Graph API serves on /v1.0, checked against Microsoft Graph's own v1.0 metadata.

Real answers (GET of every collection and item, and every POST/PATCH answer with a body) of realistic data: users,
groups, passkeys, authenticator apps, passes, the methods policy, strengths, Conditional Access policies, app
registrations, sign-ins, directory audits, devices, device configuration, roles and the organization. Each is
checked against the CSDL subset (passgate/graph_api/data/graph-v1.0.csdl, see the README.md there) by ``csdl.Checker``:

- every property is a property of the Graph type named by ``@odata.type`` (which must be the endpoint's type or
  derived from it) or its base types, with the JSON type its CSDL type says, recursively through complex values
  and collections; enum values are members of their EnumType; ``Nullable="false"`` properties are never null;
- complete: every structural property of the type (navigation properties aside) is in the answer, except those in
  ``MAY_OMIT`` below, each with its reason;
- ``@odata.*`` (OData control information) and ``@passgate.*`` (Passgate's instance annotations) are not
  properties; any other annotation is a mismatch.

A failure lists every mismatch with the request and the JSON path.
"""

from __future__ import annotations

import base64
from typing import Any

import jsonschema_rs
import pytest
from django.test import Client

from passgate.access.services import strength_create
from passgate.audit.services import Actor
from passgate.core.graph.applications import UNSUPPORTED
from passgate.directory.models import SecurityGroup, User
from passgate.directory.services import group_add_member
from passgate.graph_api.openapi import build_document
from passgate.graph_api.registry import ENDPOINTS, graph_urlpatterns
from tests.core.softauthn import SoftAuthenticator
from tests.graph.conftest import Api, issue_token, sign_in_session
from tests.graph.csdl import EXTRA, Checker
from tests.graph.test_authorization_matrix import CASES, PERMISSIONS, Case, _objects
from tests.graph.test_methods_and_policy import graph_credential

pytestmark = pytest.mark.django_db

# Graph answers users and groups with a default set of properties unless $select names others (the user and group
# resource pages, "Returned by default"); completeness is checked against that set.
DEFAULT_ONLY = {
    "user": {"businessPhones", "displayName", "givenName", "id", "jobTitle", "mail", "mobilePhone", "officeLocation",
             "preferredLanguage", "surname", "userPrincipalName"},
    "group": {"classification", "createdDateTime", "deletedDateTime", "description", "displayName",
              "expirationDateTime", "groupTypes", "id", "isAssignableToRole", "mail", "mailEnabled", "mailNickname",
              "membershipRule", "membershipRuleProcessingState", "onPremisesDomainName", "onPremisesLastSyncDateTime",
              "onPremisesNetBiosName", "onPremisesProvisioningErrors", "onPremisesSamAccountName",
              "onPremisesSecurityIdentifier", "onPremisesSyncEnabled", "preferredDataLocation", "preferredLanguage",
              "proxyAddresses", "renewedDateTime", "resourceBehaviorOptions", "resourceProvisioningOptions",
              "securityEnabled", "securityIdentifier", "serviceProvisioningErrors", "theme", "visibility"},
}
# Properties an answer may leave out, each with its reason. Keep this short: a property Passgate does not keep is
# answered with Graph's empty value (docs/graph-api.md, "Properties answered empty"), not left out.
MAY_OMIT: dict[str, set[str]] = {
    # only in a POST body: the credential a provisioning tool made (Graph never returns it)
    "fido2AuthenticationMethod": {"publicKeyCredential"},
    # Graph returns it only on $select (unifiedRoleAssignment page)
    "unifiedRoleAssignment": {"principalOrganizationId"},
    # Windows Hello for Business PIN and biometric settings: Passgate keeps none (ADR 0007, only "Use security keys
    # for sign-in"); all are Nullable="false", so any value answered would claim a PIN policy nobody applies.
    "deviceEnrollmentWindowsHelloForBusinessConfiguration": {
        "enhancedBiometricsState", "pinExpirationInDays", "pinLowercaseCharactersUsage", "pinMaximumLength",
        "pinMinimumLength", "pinPreviousBlockCount", "pinSpecialCharactersUsage", "pinUppercaseCharactersUsage",
        "remotePassportEnabled", "securityDeviceRequired", "state", "unlockWithBiometricsEnabled"},
}

# The Graph type each response schema carries (a collection's items, or the entity itself).
SCHEMA_TYPES = {
    "authenticationMethod": "authenticationMethod", "memberOf": "directoryObject", "user.members": "directoryObject",
    "directoryObject": "directoryObject", "deviceConfiguration": "deviceConfiguration",
    "deviceEnrollmentConfiguration": "deviceEnrollmentConfiguration",
    "authenticationMethodConfiguration": "authenticationMethodConfiguration",
    "authenticationCombinationConfiguration": "authenticationCombinationConfiguration",
}


def _graph_type(schema: str) -> tuple[str, bool]:
    """(Graph type, is a collection) of a response schema name."""
    collection = schema.endswith(".collection") or schema == "user.members"
    name = schema.removesuffix(".collection")
    return SCHEMA_TYPES.get(name, name), collection


def _checker() -> Checker:
    return Checker(extra=EXTRA, may_omit=MAY_OMIT, default_only=DEFAULT_ONLY)


def check_openapi(checker: Checker, document: dict[str, Any], where: str, body: Any, schema: str) -> None:
    """The answer fits the schema /openapi.json gives it (which must therefore say what the CSDL says)."""
    validator = jsonschema_rs.validator_for({"components": document["components"],
                                             "$ref": f"#/components/schemas/{schema}"})
    for error in validator.iter_errors(body):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
        checker.fail(f"{where}{path}", f"against /openapi.json's {schema}: {error.message[:200]}")


def check_answer(checker: Checker, where: str, body: Any, schema: str) -> None:
    graph_type, collection = _graph_type(schema)
    if not isinstance(body, dict) or "@odata.context" not in body:
        checker.fail(where, "no @odata.context")
    if collection:
        values = body.get("value") if isinstance(body, dict) else None
        if not isinstance(values, list) or not values:
            checker.fail(where, "a collection without items (the test should make some)")
            return
        for i, item in enumerate(values):
            checker.structured(item, graph_type, f"{where} value[{i}]")
        unknown = {k for k in body if not k.startswith("@") and k != "value"}
        if unknown:
            checker.fail(where, f"not OData collection members: {sorted(unknown)}")
    else:
        checker.structured(body, graph_type, where)


def _endpoint(case: Case) -> Any:
    graph_urlpatterns()
    return next(e for e in ENDPOINTS if e.method == case.method and e.path == case.route)


def _served(case: Case) -> bool:
    return case.method != "DELETE" and any(s for s in _endpoint(case).responses.values()) and \
        "Edm." not in str(_endpoint(case).responses)


def _path(case: Case, ids: dict[str, str]) -> str:
    """The case's path, for a collection on an object that has items (the matrix's strength has none yet)."""
    path = case.path
    if case.method == "GET" and path.endswith("/{strength}/combinationConfigurations"):
        path = path.replace("{strength}", "{cstrength}")
    if case.method == "POST" and path.endswith("/{strength}/combinationConfigurations") and "/identity/" in path:
        path = path.replace("{strength}", "{strength2}")  # the other path's POST gave {strength} its one
    return path.format(**ids)


def _provisioned_passkey(api: Api, user: Any) -> tuple[str, Any]:
    """POST .../fido2Methods with a credential made from creationOptions (a synced passkey): (path, answer)."""
    base = f"/v1.0/users/{user.pk}/authentication/fido2Methods"
    options = api.get(f"{base}/creationOptions").json()
    challenge = base64.urlsafe_b64decode(options["publicKey"]["challenge"] + "==")
    auth = SoftAuthenticator(user_handle=bytes(user.webauthn_user_handle), credential_id=b"\x42" * 32,
                             backup_eligible=True)
    return base, api.post(base, {"displayName": "Phone", "publicKeyCredential": graph_credential(auth, challenge)})


def test_every_v1_answer_is_a_graph_v1_resource(client: Any, make_user: Any) -> None:
    ids = _objects(make_user)
    target = User.objects.get(pk=ids["user"])
    ids["strength2"] = strength_create(body={"displayName": "Keys too", "allowedCombinations": ["fido2"]},
                                       actor=Actor.system("test")).id
    group_add_member(group=SecurityGroup.objects.get(pk=ids["group"]), user=target, actor=Actor.system("test"))
    app_api = Api(client, issue_token(*PERMISSIONS))
    me_client = Client()
    sign_in_session(me_client, target)
    me_api = Api(me_client)
    checker = _checker()
    document = build_document()
    checked = 0
    for case in CASES:
        if not _served(case) or case.success >= 300:
            continue
        api = me_api if case.is_me else app_api
        path = _path(case, ids)
        response = api.request(case.method, path, case.body(ids) if case.body else None)
        where = f"{case.method} {path}"
        if response.status_code != case.success:
            checker.fail(where, f"answered {response.status_code}: {response.content[:300]!r}")
            continue
        schema = _endpoint(case).responses[case.success]
        check_answer(checker, where, response.json(), schema)
        check_openapi(checker, document, where, response.json(), schema)
        checked += 1
    base, created = _provisioned_passkey(app_api, target)
    assert created.status_code == 201, created.content
    assert created.json()["passkeyType"] == "synced"
    check_answer(checker, f"POST {base}", created.json(), "fido2AuthenticationMethod")
    check_openapi(checker, document, f"POST {base}", created.json(), "fido2AuthenticationMethod")
    mine = me_api.get(f"/v1.0/me/authentication/fido2Methods/{created.json()['id']}")
    check_answer(checker, "GET /v1.0/me/authentication/fido2Methods/{id}", mine.json(), "fido2AuthenticationMethod")
    assert checked > 60
    assert not checker.errors, "\n".join([f"{len(checker.errors)} mismatches with Graph's v1.0 CSDL:",
                                          *checker.errors])


def test_the_empty_values_answered_can_be_sent_back(app_api: Any, make_user: Any) -> None:
    """A client that GETs, changes one thing and PATCHes the rest back is not refused for what Passgate answers
    empty; a value that is not empty still is (notSupported)."""
    ids = _objects(make_user)
    api = app_api(*PERMISSIONS)
    app_path = f"/v1.0/applications/{ids['app']}"
    app = api.get(app_path).json()
    back = {name: app[name] for name in sorted(UNSUPPORTED)}
    assert api.patch(app_path, {**back, "web": app["web"], "displayName": "Wiki 2"}).status_code == 204
    assert api.patch(app_path, {"tags": ["x"]}).status_code == 400

    ca_path = f"/v1.0/identity/conditionalAccess/policies/{ids['capolicy']}"
    policy = api.get(ca_path).json()
    writable = {k: v for k, v in policy.items() if k not in ("id", "createdDateTime", "modifiedDateTime",
                                                             "templateId", "deletedDateTime", "@odata.context")}
    assert api.patch(ca_path, {**writable, "displayName": "Renamed"}).status_code == 204
    assert api.patch(ca_path, {"conditions": {"signInRiskLevels": ["high"]}}).status_code == 400

    policy_path = "/v1.0/policies/authenticationMethodsPolicy"
    methods_policy = api.get(policy_path).json()
    assert api.patch(policy_path, methods_policy).status_code == 204
    campaign = methods_policy["registrationEnforcement"]["authenticationMethodsRegistrationCampaign"]
    changed = {"registrationEnforcement": {"authenticationMethodsRegistrationCampaign": {**campaign,
                                                                                         "state": "enabled"}}}
    refused = api.patch(policy_path, changed)
    assert refused.status_code == 400 and "doesn't support" in refused.json()["error"]["message"]
    assert api.patch(policy_path, {"reconfirmationInDays": 30}).status_code == 400


def test_the_checker_names_each_mismatch_with_its_path() -> None:
    checker = _checker()
    strength = {"id": "x", "displayName": "Keys", "description": None, "policyType": "custom",
                "requirementsSatisfied": "mfa", "allowedCombinations": ["fido2"],
                "createdDateTime": "2026-12-04T10:00:00Z", "modifiedDateTime": "2026-12-04T10:00:00Z"}
    good = {"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": "1", "displayName": "Key",
            "createdDateTime": "2026-12-04T10:00:00Z", "aaGuid": "00000000-0000-0000-0000-000000000000",
            "model": None, "attestationCertificates": [], "attestationLevel": "attested", "passkeyType": "synced",
            "@passgate.lastUsedDateTime": None}
    checker.structured(good, "authenticationMethod", "ok")
    checker.structured(strength, "authenticationStrengthPolicy", "strength")
    checker.structured({**strength, "createdDateTime": None}, "authenticationStrengthPolicy", "nulled")
    assert checker.errors == ['nulled.createdDateTime: null, but Graph\'s Edm.DateTimeOffset is Nullable="false" here']
    checker.errors.clear()
    checker.structured({**good, "lastUsedDateTime": None, "passkeyType": "roaming", "attestationCertificates": None,
                        "createdDateTime": "yesterday", "x@other.term": 1}, "authenticationMethod", "bad")
    checker.structured({k: v for k, v in good.items() if k != "model"}, "authenticationMethod", "short")
    checker.structured({**good, "@odata.type": "#microsoft.graph.user"}, "authenticationMethod", "typed")
    checker.structured({k: v for k, v in good.items() if k != "@odata.type"}, "authenticationMethod", "abstract")
    paths = {e.split(": ")[0] for e in checker.errors}
    assert {"bad.passkeyType", "bad.attestationCertificates", "bad.createdDateTime", "bad.lastUsedDateTime",
            "bad.x@other.term", "short", "typed.@odata.type", "abstract"} <= paths, checker.errors
    assert any("missing: model" in e for e in checker.errors) and any("is abstract" in e for e in checker.errors)
