"""A user's authentication methods: /users/{id}/authentication/... and the signed-in user's /me/authentication/...

Passkeys (fido2Methods: list, get, delete; admin provisioning with creationOptions then POST), authenticator
apps (softwareOathMethods: list, get, delete), Temporary Access Passes (temporaryAccessPassMethods: create, with
the pass returned once, list, get, delete), and the combined /methods list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.response import Response

from passgate.core import sessions as session_rules
from passgate.core import tap as tap_rules
from passgate.core.access.query import METHODS_QUERY, NO_OPTIONS
from passgate.core.errors import NotFound
from passgate.core.graph import jsonschema as js
from passgate.core.graph.authz import UserCaller
from passgate.core.graph.errors import ME_NEEDS_DELEGATION, GraphCode, GraphError
from passgate.core.graph.resources import FIDO2_METHOD, SOFTWARE_OATH_METHOD, TAP_METHOD
from passgate.core.graph.schema import parse_datetime
from passgate.core.webauthn.options import CREATION_OPTIONS_SCHEMA
from passgate.credentials import oath, services
from passgate.credentials.models import Passkey, SoftwareOathMethod, TemporaryAccessPass
from passgate.directory.models import User
from passgate.directory.services import user_get, user_roles
from passgate.graph_api.authentication import release_session_method
from passgate.graph_api.registry import Call, endpoint, register_schema
from passgate.trust_store.selectors import catalogue

FIDO2_TYPE = "#microsoft.graph.fido2AuthenticationMethod"
OATH_TYPE = "#microsoft.graph.softwareOathAuthenticationMethod"
TAP_TYPE = "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
_RESOURCES = {"fido2AuthenticationMethod": FIDO2_METHOD, "softwareOathAuthenticationMethod": SOFTWARE_OATH_METHOD,
              "temporaryAccessPassAuthenticationMethod": TAP_METHOD}
# A method's last use is Graph beta's lastUsedDateTime: answers carry it on /beta, and on /v1.0 (where Graph has no
# such property) as the instance annotation @passgate.lastUsedDateTime.
LAST_USED = "lastUsedDateTime"
LAST_USED_ANNOTATION = "@passgate.lastUsedDateTime"
_LAST_USED_SCHEMA = js.nullable(js.DATETIME)
for _name, _resource in _RESOURCES.items():
    _schema = _resource.json_schema("read", closed=True)
    if _resource is not TAP_METHOD:
        _schema["properties"][LAST_USED] = {**_LAST_USED_SCHEMA, "description": "/beta answers only: when it was "
                                                                                "last used (UTC), or null."}
        _schema["properties"][LAST_USED_ANNOTATION] = {**_LAST_USED_SCHEMA, "description": "/v1.0 answers only: "
                                                       "when it was last used (UTC), or null."}
    register_schema(_name, _schema)
register_schema("fido2AuthenticationMethod.create", FIDO2_METHOD.json_schema("create"))
register_schema("temporaryAccessPassAuthenticationMethod.create", TAP_METHOD.json_schema("create"))
register_schema("authenticationMethod", js.one_of(_RESOURCES, title="microsoft.graph.authenticationMethod",
                                                  description="Told apart by @odata.type."))
# Graph's webauthnAuthenticatorSelectionCriteria: no residentKey (WebAuthn takes requireResidentKey: true as a
# required one), and authenticatorAttachment null: any authenticator may be used.
_GRAPH_SELECTION = js.obj({"authenticatorAttachment": {"type": "null"}, "requireResidentKey": {"const": True},
                           "userVerification": CREATION_OPTIONS_SCHEMA["properties"]["authenticatorSelection"][
                               "properties"]["userVerification"]},
                          required=["authenticatorAttachment", "requireResidentKey", "userVerification"])
_GRAPH_CREATION_OPTIONS = {**CREATION_OPTIONS_SCHEMA, "properties": {
    **CREATION_OPTIONS_SCHEMA["properties"], "authenticatorSelection": _GRAPH_SELECTION}}
register_schema("webauthnCredentialCreationOptions", js.obj(
    {"@odata.context": js.STRING, "challengeTimeoutDateTime": js.DATETIME, "publicKey": _GRAPH_CREATION_OPTIONS},
    required=["@odata.context", "challengeTimeoutDateTime", "publicKey"], title="webauthnCredentialCreationOptions"))
for _name in (*_RESOURCES, "authenticationMethod"):
    register_schema(f"{_name}.collection", js.obj({"@odata.context": js.STRING, "value": js.array(js.ref(_name))},
                                                  required=["@odata.context", "value"]))

USABILITY = {
    tap_rules.TapState.USABLE: "EnabledByPolicy",
    tap_rules.TapState.NOT_YET_VALID: "NotYetValid",
    tap_rules.TapState.EXPIRED: "Expired",
    tap_rules.TapState.USED: "OneTimeUsed",
    tap_rules.TapState.REVOKED: "DisabledByPolicy",
}


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _last_used(call: Call) -> str:
    return LAST_USED if call.version == "beta" else LAST_USED_ANNOTATION


def fido2_json(p: Passkey, call: Call) -> dict[str, Any]:
    """``passkeyType``: synced when the credential is backup eligible (BE=1), else device-bound."""
    return {"@odata.type": FIDO2_TYPE, "id": str(p.id), "displayName": p.display_name,
            "createdDateTime": _when(p.created_at), _last_used(call): _when(p.last_used_at),
            "aaGuid": str(p.aaguid), "model": graph_model(p),
            "attestationCertificates": list(p.attestation_certificates), "attestationLevel": p.attestation_level,
            "passkeyType": "synced" if p.backup_eligible else "deviceBound"}


def graph_model(p: Passkey) -> str | None:
    """Graph's ``model``: what metadata said at registration, else the catalogue's name; null when unknown."""
    entry = catalogue().lookup(str(p.aaguid))
    return p.model_name or (entry.name if entry else None)


def oath_json(m: SoftwareOathMethod, call: Call) -> dict[str, Any]:
    return {"@odata.type": OATH_TYPE, "id": str(m.id), "secretKey": None,
            "createdDateTime": _when(m.created_at), _last_used(call): _when(m.last_used_at)}


def tap_json(t: TemporaryAccessPass, plain: str | None = None) -> dict[str, Any]:
    state = services.tap_state(t)
    return {"@odata.type": TAP_TYPE, "id": str(t.id), "temporaryAccessPass": plain,
            "createdDateTime": _when(t.created_at), "startDateTime": _when(t.start_at),
            "lifetimeInMinutes": t.lifetime_minutes, "isUsableOnce": t.is_usable_once,
            "isUsable": state is tap_rules.TapState.USABLE, "methodUsabilityReason": USABILITY[state]}


# --- whose methods ---------------------------------------------------------------------------------------

def _user(key: str) -> User:
    try:
        return user_get(upn_or_id=key)
    except NotFound:
        raise GraphError.not_found(key) from None


def _no_query_options(call: Call) -> None:
    """Graph's pages for these methods: "This method does not support optional query parameters": any ``$``
    option is 400 (audited), never silently ignored."""
    call.query(METHODS_QUERY, collection=True, supported=NO_OPTIONS)


def _me(call: Call) -> User:
    if not isinstance(call.caller, UserCaller):
        error = GraphError.malformed(ME_NEEDS_DELEGATION)
        call.refused(error, where="/me")
        raise error
    return _user(call.caller.user_id)


def _me_recently_signed_in(call: Call) -> User:
    """People changing their own methods must have signed in within the last 10 minutes, as in Entra."""
    user = _me(call)
    raw = call.request._request.session.get(session_rules.AUTH_TIME_SESSION_KEY)
    try:
        auth_time = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        auth_time = None
    if auth_time is None or not session_rules.is_recent(auth_time, now=timezone.now()):
        raise GraphError(403, GraphCode.AUTHORIZATION_REQUEST_DENIED,
                         "A sign-in within the last 10 minutes is required to change your authentication methods.")
    return user


def _one(rows: Any, method_id: str) -> Any:
    try:
        found = rows.filter(pk=method_id).first()
    except (ValueError, ValidationError):  # a malformed id is simply not found
        found = None
    if found is None:
        raise GraphError.not_found(method_id)
    return found


def _collection(call: Call, fragment: str, items: list[dict[str, Any]]) -> Response:
    return Response({"@odata.context": call.metadata(fragment), "value": items})


def _methods(user: User, call: Call) -> list[dict[str, Any]]:
    return ([fido2_json(p, call) for p in user.passkeys.all()]
            + [oath_json(m, call) for m in user.software_oath_methods.filter(is_verified=True)]
            + [tap_json(t) for t in user.temporary_access_passes.all()])


def _write(call: Call, user: User) -> None:
    """Changing someone else's methods is a sensitive action: the caller must outrank the target's roles."""
    call.authorize("methods.write", target_roles=user_roles(user=user))


# --- /users/{id}/authentication/... ------------------------------------------------------------------------

U = "/users/{user-id}/authentication"


@endpoint("GET", U + "/methods", operation="methods.read", tag="authentication",
          summary="List a user's authentication methods", responses={200: "authenticationMethod.collection"})
def methods_list(call: Call, user_id: str) -> Response:
    _no_query_options(call)
    user = _user(user_id)
    return _collection(call, f"users('{user.pk}')/authentication/methods", _methods(user, call))


@endpoint("GET", U + "/fido2Methods", operation="methods.read", tag="authentication",
          summary="List a user's passkeys", responses={200: "fido2AuthenticationMethod.collection"})
def fido2_list(call: Call, user_id: str) -> Response:
    _no_query_options(call)
    user = _user(user_id)
    return _collection(call, f"users('{user.pk}')/authentication/fido2Methods",
                       [fido2_json(p, call) for p in user.passkeys.all()])


@endpoint("GET", U + "/fido2Methods/{fido2AuthenticationMethod-id}", operation="methods.read",
          tag="authentication", summary="Get a user's passkey", responses={200: "fido2AuthenticationMethod"})
def fido2_get(call: Call, user_id: str, fido2_authentication_method_id: str) -> Response:
    _no_query_options(call)
    user = _user(user_id)
    passkey = _one(user.passkeys, fido2_authentication_method_id)
    return Response({"@odata.context": call.metadata(f"users('{user.pk}')/authentication/fido2Methods/$entity"),
                     **fido2_json(passkey, call)})


@endpoint("DELETE", U + "/fido2Methods/{fido2AuthenticationMethod-id}", operation="methods.write",
          tag="authentication", summary="Delete a user's passkey", responses={204: None})
def fido2_delete(call: Call, user_id: str, fido2_authentication_method_id: str) -> Response:
    user = _user(user_id)
    passkey = _one(user.passkeys.select_related("user"), fido2_authentication_method_id)
    _write(call, user)
    method_id = passkey.pk
    services.passkey_delete(passkey=passkey, actor=call.actor, context=call.context)
    release_session_method(call.request, method_id)
    return Response(status=204)


def _creation_options(call: Call, user_id: str, minutes: int) -> Response:
    user = _user(user_id)
    _write(call, user)
    options, expires = services.passkey_provision_begin(user=user, actor=call.actor, timeout_minutes=minutes)
    selection = options["authenticatorSelection"]
    options["authenticatorSelection"] = {"authenticatorAttachment": None, "requireResidentKey": True,
                                         "userVerification": selection["userVerification"]}
    return Response({"@odata.context": call.metadata("microsoft.graph.webauthnCredentialCreationOptions"),
                     "challengeTimeoutDateTime": _when(expires), "publicKey": options})


@endpoint("GET", U + "/fido2Methods/creationOptions(challengeTimeoutInMinutes={challengeTimeoutInMinutes})",
          operation="methods.write", tag="authentication",
          summary="Creation options to provision a passkey for a user",
          responses={200: "webauthnCredentialCreationOptions"},
          params={"challengeTimeoutInMinutes": {"type": "integer", "minimum": services.PROVISIONING_MIN_MINUTES,
                                                "maximum": services.PROVISIONING_MAX_MINUTES}})
def fido2_creation_options(call: Call, user_id: str, challenge_timeout_in_minutes: str) -> Response:
    """``challengeTimeoutInMinutes`` 5..43,200. The challenge belongs to the calling app or administrator:
    only they can complete the registration with ``POST .../fido2Methods``."""
    _no_query_options(call)
    # int() would also take "+5", " 5" and non-ASCII digits, which the document (an integer) does not
    if not re.fullmatch(r"-?[0-9]{1,9}", challenge_timeout_in_minutes):
        raise GraphError.bad_request(
            f"challengeTimeoutInMinutes: '{challenge_timeout_in_minutes[:20]}' is not a whole number of minutes "
            f"from {services.PROVISIONING_MIN_MINUTES} to {services.PROVISIONING_MAX_MINUTES}")
    return _creation_options(call, user_id, int(challenge_timeout_in_minutes))


@endpoint("GET", U + "/fido2Methods/creationOptions", operation="methods.write", tag="authentication",
          summary="Creation options (default 5-minute challenge)", responses={200: "webauthnCredentialCreationOptions"})
def fido2_creation_options_default(call: Call, user_id: str) -> Response:
    _no_query_options(call)
    return _creation_options(call, user_id, 5)


@endpoint("POST", U + "/fido2Methods", operation="methods.write", tag="authentication",
          summary="Register a passkey on a user's behalf", request="fido2AuthenticationMethod.create",
          responses={201: "fido2AuthenticationMethod"})
def fido2_create(call: Call, user_id: str) -> Response:
    """Body: ``displayName`` and ``publicKeyCredential`` (Graph's webauthnPublicKeyCredential: ``id``,
    ``response.clientDataJSON``, ``response.attestationObject``, ``clientExtensionResults``), made from the
    options of ``creationOptions``. Answers 201 with the new method."""
    user = _user(user_id)
    _write(call, user)
    body = FIDO2_METHOD.validate(call.body, mode="create")
    credential = body["publicKeyCredential"]
    # Graph's webauthnPublicKeyCredential has no rawId/type: they are the id and "public-key".
    credential = {"rawId": credential.get("id"), "type": "public-key", **credential}
    passkey = services.passkey_provision_complete(user=user, actor=call.actor, credential=credential,
                                                  display_name=body.get("displayName"),  # type: ignore[arg-type]
                                                  context=call.context)
    return Response({"@odata.context": call.metadata(f"users('{user.pk}')/authentication/fido2Methods/$entity"),
                     **fido2_json(passkey, call)}, status=201)


@endpoint("GET", U + "/softwareOathMethods", operation="methods.read", tag="authentication",
          summary="List a user's authenticator apps", responses={200: "softwareOathAuthenticationMethod.collection"})
def oath_list(call: Call, user_id: str) -> Response:
    _no_query_options(call)
    user = _user(user_id)
    return _collection(call, f"users('{user.pk}')/authentication/softwareOathMethods",
                       [oath_json(m, call) for m in user.software_oath_methods.filter(is_verified=True)])


@endpoint("GET", U + "/softwareOathMethods/{softwareOathAuthenticationMethod-id}", operation="methods.read",
          tag="authentication", summary="Get a user's authenticator app",
          responses={200: "softwareOathAuthenticationMethod"})
def oath_get(call: Call, user_id: str, software_oath_authentication_method_id: str) -> Response:
    _no_query_options(call)
    user = _user(user_id)
    method = _one(user.software_oath_methods.filter(is_verified=True), software_oath_authentication_method_id)
    return Response({"@odata.context": call.metadata(
        f"users('{user.pk}')/authentication/softwareOathMethods/$entity"), **oath_json(method, call)})


@endpoint("DELETE", U + "/softwareOathMethods/{softwareOathAuthenticationMethod-id}", operation="methods.write",
          tag="authentication", summary="Delete a user's authenticator app", responses={204: None})
def oath_delete(call: Call, user_id: str, software_oath_authentication_method_id: str) -> Response:
    user = _user(user_id)
    method = _one(user.software_oath_methods.select_related("user"), software_oath_authentication_method_id)
    _write(call, user)
    method_id = method.pk
    oath.software_oath_delete(method=method, actor=call.actor, context=call.context)
    release_session_method(call.request, method_id)
    return Response(status=204)


@endpoint("GET", U + "/temporaryAccessPassMethods", operation="methods.read", tag="authentication",
          summary="List a user's Temporary Access Passes",
          responses={200: "temporaryAccessPassAuthenticationMethod.collection"})
def tap_list(call: Call, user_id: str) -> Response:
    _no_query_options(call)
    user = _user(user_id)
    return _collection(call, f"users('{user.pk}')/authentication/temporaryAccessPassMethods",
                       [tap_json(t) for t in user.temporary_access_passes.all()])


@endpoint("GET", U + "/temporaryAccessPassMethods/{temporaryAccessPassAuthenticationMethod-id}",
          operation="methods.read", tag="authentication", summary="Get a user's Temporary Access Pass",
          responses={200: "temporaryAccessPassAuthenticationMethod"})
def tap_get(call: Call, user_id: str, temporary_access_pass_authentication_method_id: str) -> Response:
    _no_query_options(call)
    user = _user(user_id)
    tap = _one(user.temporary_access_passes, temporary_access_pass_authentication_method_id)
    return Response({"@odata.context": call.metadata(
        f"users('{user.pk}')/authentication/temporaryAccessPassMethods/$entity"), **tap_json(tap)})


@endpoint("POST", U + "/temporaryAccessPassMethods", operation="methods.write", tag="authentication",
          summary="Create a Temporary Access Pass", request="temporaryAccessPassAuthenticationMethod.create",
          responses={201: "temporaryAccessPassAuthenticationMethod"})
def tap_create(call: Call, user_id: str) -> Response:
    """Optional ``startDateTime``, ``lifetimeInMinutes``, ``isUsableOnce`` (the TAP policy's defaults and bounds
    apply). The pass is in ``temporaryAccessPass`` of this answer only. A user has one pass at a time: delete a
    usable one first. Passgate's passes are one-time unless ``isUsableOnce`` is false (Graph follows the policy)."""
    user = _user(user_id)
    _write(call, user)
    body = TAP_METHOD.validate(call.body, mode="create")
    start = parse_datetime(body["startDateTime"]) if body.get("startDateTime") is not None else None
    lifetime, once = body.get("lifetimeInMinutes"), body.get("isUsableOnce")
    if any(services.tap_state(t) in (tap_rules.TapState.USABLE, tap_rules.TapState.NOT_YET_VALID)
           for t in user.temporary_access_passes.all()):
        raise GraphError.bad_request("The user already has a Temporary Access Pass. Delete it to create a new one.")
    row, plain = services.tap_issue(user=user, actor=call.actor, lifetime_minutes=lifetime, usable_once=once,
                                    start_at=start, context=call.context)
    return Response({"@odata.context": call.metadata(
        f"users('{user.pk}')/authentication/temporaryAccessPassMethods/$entity"), **tap_json(row, plain)}, status=201)


@endpoint("DELETE", U + "/temporaryAccessPassMethods/{temporaryAccessPassAuthenticationMethod-id}",
          operation="methods.write", tag="authentication", summary="Delete a Temporary Access Pass",
          responses={204: None})
def tap_delete(call: Call, user_id: str, temporary_access_pass_authentication_method_id: str) -> Response:
    user = _user(user_id)
    tap = _one(user.temporary_access_passes.select_related("user"), temporary_access_pass_authentication_method_id)
    _write(call, user)
    method_id = tap.pk
    services.tap_delete(tap=tap, actor=call.actor, context=call.context)
    release_session_method(call.request, method_id)
    return Response(status=204)


# --- /me/authentication/... (the signed-in person; Graph's delegated flow) ---------------------------------

M = "/me/authentication"


def _me_endpoint(method: str, route: str, summary: str, responses: dict[int, str | None]) -> Callable[..., Any]:
    return endpoint(method, M + route, operation=None, tag="me", summary=summary, responses=responses,
                    operation_id="me" + route.replace("/", ".").replace("{", "").replace("}", "") + "." + method)


@_me_endpoint("GET", "/methods", "List my authentication methods", {200: "authenticationMethod.collection"})
def me_methods(call: Call) -> Response:
    _no_query_options(call)
    return _collection(call, "users('me')/authentication/methods", _methods(_me(call), call))


@_me_endpoint("GET", "/fido2Methods", "List my passkeys", {200: "fido2AuthenticationMethod.collection"})
def me_fido2_list(call: Call) -> Response:
    _no_query_options(call)
    return _collection(call, "users('me')/authentication/fido2Methods",
                       [fido2_json(p, call) for p in _me(call).passkeys.all()])


@_me_endpoint("GET", "/fido2Methods/{fido2AuthenticationMethod-id}", "Get my passkey",
              {200: "fido2AuthenticationMethod"})
def me_fido2_get(call: Call, fido2_authentication_method_id: str) -> Response:
    _no_query_options(call)
    passkey = _one(_me(call).passkeys, fido2_authentication_method_id)
    return Response({"@odata.context": call.metadata("users('me')/authentication/fido2Methods/$entity"),
                     **fido2_json(passkey, call)})


@_me_endpoint("DELETE", "/fido2Methods/{fido2AuthenticationMethod-id}", "Delete my passkey", {204: None})
def me_fido2_delete(call: Call, fido2_authentication_method_id: str) -> Response:
    user = _me_recently_signed_in(call)
    passkey = _one(user.passkeys.select_related("user"), fido2_authentication_method_id)
    method_id = passkey.pk
    services.passkey_delete(passkey=passkey, actor=call.actor, context=call.context)
    release_session_method(call.request, method_id)
    return Response(status=204)


@_me_endpoint("GET", "/softwareOathMethods", "List my authenticator apps",
              {200: "softwareOathAuthenticationMethod.collection"})
def me_oath_list(call: Call) -> Response:
    _no_query_options(call)
    return _collection(call, "users('me')/authentication/softwareOathMethods",
                       [oath_json(m, call) for m in _me(call).software_oath_methods.filter(is_verified=True)])


@_me_endpoint("DELETE", "/softwareOathMethods/{softwareOathAuthenticationMethod-id}", "Delete my authenticator app",
              {204: None})
def me_oath_delete(call: Call, software_oath_authentication_method_id: str) -> Response:
    user = _me_recently_signed_in(call)
    method = _one(user.software_oath_methods.select_related("user"), software_oath_authentication_method_id)
    method_id = method.pk
    oath.software_oath_delete(method=method, actor=call.actor, context=call.context)
    release_session_method(call.request, method_id)
    return Response(status=204)


@_me_endpoint("GET", "/temporaryAccessPassMethods", "List my Temporary Access Passes",
              {200: "temporaryAccessPassAuthenticationMethod.collection"})
def me_tap_list(call: Call) -> Response:
    _no_query_options(call)
    return _collection(call, "users('me')/authentication/temporaryAccessPassMethods",
                       [tap_json(t) for t in _me(call).temporary_access_passes.all()])
