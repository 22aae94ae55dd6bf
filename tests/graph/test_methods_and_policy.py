"""The authentication methods policy and users' authentication methods through the Graph API, with the bodies
Microsoft documents, and admin provisioning of a passkey that then signs in."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from passgate.audit.services import Actor
from passgate.credentials import services
from passgate.credentials.models import Passkey, PolicyVersion, TemporaryAccessPass
from passgate.directory.models import DirectoryRole, User
from tests.core.softauthn import SoftAuthenticator, client_data_json
from tests.graph.conftest import HOST, ORIGIN, error_of
from tests.graph.methods import stored_oath, stored_passkey

pytestmark = pytest.mark.django_db

POLICY = "/v1.0/policies/authenticationMethodsPolicy"
FIDO2 = POLICY + "/authenticationMethodConfigurations/fido2"
AUTHENTICATOR_APP_AAGUIDS = ["90a3ccdf-635c-4729-a248-9b709135078f", "de1e552d-db1d-4423-a619-566b625cdc84"]


def graph_error(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    return dict(body["error"])


# --- policy -----------------------------------------------------------------------------------------------

def test_get_the_policy_and_the_fido2_configuration(app_api: Any) -> None:
    api = app_api("Policy.Read.All")
    policy = api.get(POLICY).json()
    assert policy["id"] == "authenticationMethodsPolicy"
    assert [c["id"] for c in policy["authenticationMethodConfigurations"]] == [
        "Fido2", "SoftwareOath", "TemporaryAccessPass"]
    fido2 = api.get(FIDO2.replace("fido2", "FIDO2")).json()  # ids are case-insensitive
    assert fido2["@odata.type"] == "#microsoft.graph.fido2AuthenticationMethodConfiguration"
    assert fido2["@odata.context"].endswith("authenticationMethodConfigurations/$entity")
    assert fido2["defaultPasskeyProfile"] == "00000000-0000-0000-0000-000000000001"
    assert fido2["includeTargets"][0]["id"] == "all_users"
    assert error_of(api.get(POLICY + "/authenticationMethodConfigurations/sms"))[0] == 404


def test_patch_from_microsofts_docs_allows_the_two_authenticator_app_aaguids(app_api: Any) -> None:
    api = app_api("Policy.ReadWrite.AuthenticationMethod")
    response = api.patch(FIDO2, {
        "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration",
        "isAttestationEnforced": True,
        "keyRestrictions": {"isEnforced": True, "enforcementType": "allow", "aaGuids": AUTHENTICATOR_APP_AAGUIDS},
    })
    assert response.status_code == 204, response.content
    fido2 = api.get(FIDO2).json()
    assert fido2["keyRestrictions"]["aaGuids"] == AUTHENTICATOR_APP_AAGUIDS
    assert fido2["isAttestationEnforced"] is True
    default = fido2["passkeyProfiles"][0]
    assert default["keyRestrictions"]["aaGuids"] == AUTHENTICATOR_APP_AAGUIDS  # the legacy fields mirror it
    assert default["attestationEnforcement"] == "registrationOnly"
    assert PolicyVersion.objects.count() == 1


def test_a_new_profile_gets_an_id_and_a_get_body_can_be_sent_back(app_api: Any) -> None:
    api = app_api("Policy.ReadWrite.AuthenticationMethod")
    fido2 = api.get(FIDO2).json()
    fido2["passkeyProfiles"].append({"name": "Security keys", "passkeyTypes": "deviceBound",
                                     "attestationEnforcement": "disabled",
                                     "keyRestrictions": {"isEnforced": False, "enforcementType": "allow",
                                                         "aaGuids": []}})
    assert api.patch(FIDO2, fido2).status_code == 204
    profiles = api.get(FIDO2).json()["passkeyProfiles"]
    assert [p["name"] for p in profiles] == ["Default passkey profile", "Security keys"]
    assert len(profiles[1]["id"]) == 36
    assert api.patch(FIDO2, api.get(FIDO2).json()).status_code == 204  # a GET answer round-trips unchanged
    assert PolicyVersion.objects.count() == 1


def test_passgate_extensions_travel_as_annotations_a_plain_client_can_ignore_or_send_back(app_api: Any) -> None:
    api = app_api("Policy.ReadWrite.AuthenticationMethod")
    fido2 = api.get(FIDO2).json()
    assert not [key for key in fido2 if key.startswith("@passgate.")]  # nothing set, nothing shown
    fido2["@passgate.refuseFlaggedModelsAtSignIn"] = True
    fido2["passkeyProfiles"].append({"name": "Certified keys", "passkeyTypes": "deviceBound",
                                     "attestationEnforcement": "registrationOnly",
                                     "@passgate.metadataRules": {"minimumCertificationLevel": "L2",
                                                                 "requireHardwareKeyProtection": True}})
    assert api.patch(FIDO2, fido2).status_code == 204
    again = api.get(FIDO2).json()
    assert again["@passgate.refuseFlaggedModelsAtSignIn"] is True
    assert again["passkeyProfiles"][1]["@passgate.metadataRules"] == {"minimumCertificationLevel": "L2",
                                                                       "requireHardwareKeyProtection": True}
    # A plain Graph client that drops what it doesn't know changes nothing of them.
    plain = {key: value for key, value in again.items() if not key.startswith("@passgate.")}
    plain["passkeyProfiles"] = [{k: v for k, v in p.items() if not k.startswith("@passgate.")}
                                for p in again["passkeyProfiles"]]
    assert api.patch(FIDO2, plain).status_code == 204
    assert api.get(FIDO2).json() == again
    bad = api.patch(FIDO2, {"@passgate.refuseFlaggedModelsAtSignIn": "yes"})
    assert (bad.status_code, graph_error(bad)["target"]) == (400, "@passgate.refuseFlaggedModelsAtSignIn")
    assert PolicyVersion.objects.count() == 1


@pytest.mark.parametrize(("body", "target"), [
    ({"state": "on"}, "state"),
    ({"passkeyProfiles": [{"id": "00000000-0000-0000-0000-000000000001", "name": "Renamed",
                           "passkeyTypes": "deviceBound,synced"}]}, "passkeyProfiles[0].name"),
    ({"keyRestrictions": {"isEnforced": True, "enforcementType": "allow", "aaGuids": ["not-a-guid"]}},
     "keyRestrictions.aaGuids[0]"),
    ({"colour": "blue"}, "colour"),
])
def test_invalid_bodies_name_the_property_and_change_nothing(app_api: Any, body: dict[str, Any], target: str) -> None:
    response = app_api("Policy.ReadWrite.AuthenticationMethod").patch(FIDO2, body)
    error = graph_error(response)
    assert (response.status_code, error["code"], error["target"]) == (400, "Request_BadRequest", target)
    assert PolicyVersion.objects.count() == 0


def test_a_body_that_is_not_an_object_is_refused(app_api: Any) -> None:
    response = app_api("Policy.ReadWrite.AuthenticationMethod").patch(FIDO2, [1, 2])
    assert response.status_code == 400


# --- users' methods ---------------------------------------------------------------------------------------

def test_methods_list_get_delete(app_api: Any, make_user: Any) -> None:
    user = make_user()
    passkey = stored_passkey(user, display_name="Red key")
    app = stored_oath(user)
    services.tap_issue(user=user, actor=Actor.system("t"))
    api = app_api("UserAuthenticationMethod.ReadWrite.All")
    types = sorted(m["@odata.type"] for m in api.get(f"/v1.0/users/{user.pk}/authentication/methods").json()["value"])
    assert types == ["#microsoft.graph.fido2AuthenticationMethod", "#microsoft.graph.softwareOathAuthenticationMethod",
                     "#microsoft.graph.temporaryAccessPassAuthenticationMethod"]
    got = api.get(f"/v1.0/users/{user.user_principal_name}/authentication/fido2Methods/{passkey.pk}").json()
    assert {k: got[k] for k in ("displayName", "aaGuid", "attestationLevel", "model")} == {
        "displayName": "Red key", "aaGuid": "01020304-0506-0708-0102-030405060708",
        "attestationLevel": "notAttested", "model": None}
    assert api.get(f"/v1.0/users/{user.pk}/authentication/fido2Methods/not-an-id").status_code == 404
    assert api.delete(f"/v1.0/users/{user.pk}/authentication/fido2Methods/{passkey.pk}").status_code == 204
    assert api.delete(f"/v1.0/users/{user.pk}/authentication/softwareOathMethods/{app.pk}").status_code == 204
    assert not Passkey.objects.filter(user=user).exists()


def test_an_app_cannot_manage_an_administrators_methods(app_api: Any, make_user: Any) -> None:
    admin = make_user(roles=(DirectoryRole.GLOBAL_ADMINISTRATOR,))
    passkey = stored_passkey(admin)
    api = app_api("UserAuthenticationMethod.ReadWrite.All")
    assert error_of(api.delete(f"/v1.0/users/{admin.pk}/authentication/fido2Methods/{passkey.pk}"))[0] == 403
    assert Passkey.objects.filter(pk=passkey.pk).exists()


def test_temporary_access_pass_is_returned_once(app_api: Any, make_user: Any) -> None:
    user = make_user()
    api = app_api("UserAuthenticationMethod.ReadWrite.All")
    path = f"/v1.0/users/{user.pk}/authentication/temporaryAccessPassMethods"
    start = (timezone.now() + timedelta(minutes=5)).replace(microsecond=0)
    created = api.post(path, {"startDateTime": start.isoformat().replace("+00:00", "Z"), "lifetimeInMinutes": 60,
                              "isUsableOnce": True})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["temporaryAccessPass"] and body["methodUsabilityReason"] == "NotYetValid"
    assert body["isUsable"] is False and body["lifetimeInMinutes"] == 60
    listed = api.get(path).json()["value"]
    assert [t["temporaryAccessPass"] for t in listed] == [None]
    again = api.post(path, {})
    assert graph_error(again)["message"].startswith("The user already has a Temporary Access Pass")
    assert api.delete(f"{path}/{body['id']}").status_code == 204
    assert not TemporaryAccessPass.objects.filter(user=user).exists()


@pytest.mark.parametrize("body", [{"lifetimeInMinutes": 5}, {"lifetimeInMinutes": "60"}, {"isUsableOnce": "yes"},
                                  {"startDateTime": "tomorrow"}, {"pass": "chosen"}])
def test_invalid_pass_requests(app_api: Any, make_user: Any, body: dict[str, Any]) -> None:
    user = make_user()
    response = app_api("UserAuthenticationMethod.ReadWrite.All").post(
        f"/v1.0/users/{user.pk}/authentication/temporaryAccessPassMethods", body)
    assert response.status_code == 400
    assert not TemporaryAccessPass.objects.filter(user=user).exists()


# --- admin provisioning -------------------------------------------------------------------------------------

def graph_credential(auth: SoftAuthenticator, challenge: bytes) -> dict[str, Any]:
    """What a provisioning tool posts: Graph's webauthnPublicKeyCredential (no rawId, no type)."""
    made = auth.register(challenge=challenge, client_data=client_data_json(
        type="webauthn.create", challenge=challenge, origin=ORIGIN), auth_data=auth.registration_auth_data(
        rp_id=HOST))
    return {"id": made["id"], "response": {k: made["response"][k] for k in ("clientDataJSON", "attestationObject")},
            "clientExtensionResults": {}}


def test_admin_provisioning_gives_a_passkey_that_signs_in(app_api: Any, make_user: Any) -> None:
    user = make_user(upn="new.hire@contoso.com")
    api = app_api("UserAuthenticationMethod.ReadWrite.All")
    options = api.get(f"/v1.0/users/{user.pk}/authentication/fido2Methods/"
                      f"creationOptions(challengeTimeoutInMinutes=60)").json()
    assert options["publicKey"]["rp"]["id"] == HOST and options["publicKey"]["user"]["name"] == "new.hire@contoso.com"
    challenge = base64.urlsafe_b64decode(options["publicKey"]["challenge"] + "==")
    auth = SoftAuthenticator(user_handle=bytes(user.webauthn_user_handle), credential_id=b"\x17" * 32,
                             backup_eligible=False)
    created = api.post(f"/v1.0/users/{user.pk}/authentication/fido2Methods",
                       {"displayName": "Red key", "publicKeyCredential": graph_credential(auth, challenge)})
    assert created.status_code == 201, created.content
    assert created.json()["displayName"] == "Red key"
    # ... and it signs in
    begin = services.passkey_signin_begin(session_key="browser")
    sign_challenge = base64.urlsafe_b64decode(begin["challenge"] + "==")
    auth.sign_count = 1
    assertion = auth.assert_(challenge=sign_challenge, client_data=client_data_json(
        type="webauthn.get", challenge=sign_challenge, origin=ORIGIN), auth_data=auth.assertion_auth_data(rp_id=HOST))
    assert services.passkey_signin_complete(session_key="browser", credential=assertion).user == user


@pytest.mark.parametrize("minutes", ["4", "43201", "ten"])
def test_creation_options_timeout_bounds(app_api: Any, make_user: Any, minutes: str) -> None:
    user = make_user()
    response = app_api("UserAuthenticationMethod.ReadWrite.All").get(
        f"/v1.0/users/{user.pk}/authentication/fido2Methods/creationOptions(challengeTimeoutInMinutes={minutes})")
    assert response.status_code == 400 and "challengeTimeoutInMinutes" in graph_error(response)["message"]


def test_provisioning_with_a_malformed_credential_is_refused(app_api: Any, make_user: Any) -> None:
    user = make_user()
    api = app_api("UserAuthenticationMethod.ReadWrite.All")
    for body in ({"displayName": "k"}, {"displayName": "k", "publicKeyCredential": {"id": "!!", "response": {}}},
                 {"displayName": "k", "publicKeyCredential": {}, "extra": 1}):
        assert api.post(f"/v1.0/users/{user.pk}/authentication/fido2Methods", body).status_code == 400
    assert not Passkey.objects.filter(user=user).exists()


# --- /me -------------------------------------------------------------------------------------------------

def test_me_lists_and_deletes_own_methods_with_a_recent_sign_in(admin_api: Any, client: Any) -> None:
    api = admin_api()  # a signed-in person with no role
    me = User.objects.get(display_name="Admin")
    passkey = stored_passkey(me)
    assert [m["id"] for m in api.get("/v1.0/me/authentication/fido2Methods").json()["value"]] == [str(passkey.pk)]
    session = client.session
    session["pg_auth_time"] = (timezone.now() - timedelta(minutes=11)).isoformat()
    session.save()
    stale = api.delete(f"/v1.0/me/authentication/fido2Methods/{passkey.pk}")
    assert stale.status_code == 403 and "10 minutes" in graph_error(stale)["message"]
    session["pg_auth_time"] = timezone.now().isoformat()
    session.save()
    assert api.delete(f"/v1.0/me/authentication/fido2Methods/{passkey.pk}").status_code == 204
    assert json.loads(api.get("/v1.0/me/authentication/methods").content)["value"] == []


def test_model_comes_from_the_catalogue(app_api: Any, make_user: Any) -> None:
    user = make_user()
    known = stored_passkey(user, aaguid=uuid.UUID("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"))
    unknown = stored_passkey(user)
    api = app_api("UserAuthenticationMethod.Read.All")
    listed = api.get(f"/v1.0/users/{user.pk}/authentication/fido2Methods").json()["value"]
    models = {m["id"]: m["model"] for m in listed}
    assert models == {str(known.pk): "Google Password Manager", str(unknown.pk): None}
