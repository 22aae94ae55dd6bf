"""Device configuration (Intune's shapes, ADR 0007): custom configuration profiles and their assignments
(``/deviceManagement/deviceConfigurations``) and the Windows Hello for Business enrollment configuration with its
"Use security keys for sign-in" (``/deviceManagement/deviceEnrollmentConfigurations``).

As in Graph, POST answers 201 with the profile, PATCH 200 with the changed object, DELETE 204, and ``assign`` 200
with the profile's assignments after the call.
"""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from passgate.core.devices import configuration as dc
from passgate.core.devices.signin_setting import TargetKind
from passgate.core.errors import NotFound
from passgate.core.graph import jsonschema as js
from passgate.core.graph.errors import GraphError
from passgate.device_config.selectors import assignments_of, enrollment_configuration, profile_get, profiles
from passgate.device_config.services import (
    device_configuration_assign,
    device_configuration_create,
    device_configuration_delete,
    device_configuration_update,
    enrollment_configuration_update,
)
from passgate.graph_api.registry import Call, endpoint, register_schema

CONFIGS = "/deviceManagement/deviceConfigurations"
CONFIG = CONFIGS + "/{deviceConfiguration-id}"
ENROLLMENTS = "/deviceManagement/deviceEnrollmentConfigurations"
ENROLLMENT = ENROLLMENTS + "/{deviceEnrollmentConfiguration-id}"
READ, WRITE, TAG = "deviceConfiguration.read", "deviceConfiguration.write", "deviceManagement"


def _collection(name: str) -> js.Schema:
    return js.obj({"@odata.context": js.STRING, "value": js.array(js.ref(name))}, required=["@odata.context", "value"],
                  title=f"Collection({dc.NAMESPACE}{name})")


register_schema("deviceConfiguration", dc.profile_schema("read"))
register_schema("deviceConfiguration.create", dc.profile_schema("create"))
register_schema("deviceConfiguration.update", dc.profile_schema("update"))
register_schema("deviceConfiguration.collection", _collection("deviceConfiguration"))
register_schema("deviceConfiguration.assign", dc.ASSIGN_SCHEMA)
register_schema("deviceConfigurationAssignment", dc.ASSIGNMENT_SCHEMA)
register_schema("deviceConfigurationAssignment.collection", _collection("deviceConfigurationAssignment"))
register_schema("deviceEnrollmentConfiguration", dc.enrollment_schema("read"))
register_schema("deviceEnrollmentConfiguration.update", dc.enrollment_schema("update"))
register_schema("deviceEnrollmentConfiguration.collection", _collection("deviceEnrollmentConfiguration"))
for _kind in dc.OMA_TYPES:  # each subtype on its own too, as Graph's metadata names them
    register_schema(_kind, dc.oma_setting_schema(_kind, read=True))
for _target in TargetKind:
    register_schema(_target.value, dc.target_schema(_target, read=True))


def _existing(call: Call, device_configuration_id: str) -> None:
    """A missing profile is 404 before the body is read (an empty PATCH of it too); the refusal is audited."""
    try:
        profile_get(device_configuration_id)
    except NotFound as exc:
        call.refused(exc, where="{deviceConfiguration-id}")
        raise


def _profile_context(call: Call) -> str:
    return call.metadata("deviceManagement/deviceConfigurations/$entity")


# --- configuration profiles -----------------------------------------------------------------------------------------

@endpoint("GET", CONFIGS, operation=READ, tag=TAG, summary="List device configuration profiles",
          responses={200: "deviceConfiguration.collection"})
def device_configurations_list(call: Call) -> Response:
    """Custom profiles (windows10CustomConfiguration), oldest first."""
    return Response({"@odata.context": call.metadata("deviceManagement/deviceConfigurations"),
                     "value": [dc.profile_to_graph(p) for p in profiles()]})


@endpoint("POST", CONFIGS, operation=WRITE, tag=TAG, summary="Create a custom configuration profile",
          request="deviceConfiguration.create", responses={201: "deviceConfiguration"})
def device_configurations_create(call: Call) -> Response:
    """``@odata.type`` ``#microsoft.graph.windows10CustomConfiguration`` and ``displayName`` are required. Every
    omaSetting is kept; only the security-key sign-in OMA-URI
    (``./Device/Vendor/MSFT/PassportForWork/SecurityKey/UseSecurityKeyForSignin``, an omaSettingInteger of 1 or 0)
    applies on Passgate's devices, the others are shown as not applicable."""
    profile = device_configuration_create(body=call.body, actor=call.actor, context=call.context)
    return Response({"@odata.context": _profile_context(call), **dc.profile_to_graph(profile)}, status=201)


@endpoint("GET", CONFIG, operation=READ, tag=TAG, summary="Get a device configuration profile",
          responses={200: "deviceConfiguration"})
def device_configuration_get(call: Call, device_configuration_id: str) -> Response:
    return Response({"@odata.context": _profile_context(call),
                     **dc.profile_to_graph(profile_get(device_configuration_id))})


@endpoint("PATCH", CONFIG, operation=WRITE, tag=TAG, summary="Update a custom configuration profile",
          request="deviceConfiguration.update", responses={200: "deviceConfiguration"})
def device_configuration_patch(call: Call, device_configuration_id: str) -> Response:
    """Names only what changes; ``omaSettings`` replaces the whole list. Each change raises ``version`` by one."""
    _existing(call, device_configuration_id)
    profile = device_configuration_update(configuration_id=device_configuration_id, body=call.body,
                                          actor=call.actor, context=call.context)
    return Response({"@odata.context": _profile_context(call), **dc.profile_to_graph(profile)})


@endpoint("DELETE", CONFIG, operation=WRITE, tag=TAG, summary="Delete a custom configuration profile",
          responses={204: None})
def device_configuration_remove(call: Call, device_configuration_id: str) -> Response:
    device_configuration_delete(configuration_id=device_configuration_id, actor=call.actor, context=call.context)
    return Response(status=204)


def _assignments(call: Call, assignments: tuple[dc.Assignment, ...], context: str) -> Response:
    return Response({"@odata.context": call.metadata(context),
                     "value": [dc.assignment_to_graph(a) for a in assignments]})


@endpoint("POST", CONFIG + "/assign", operation=WRITE, tag=TAG, summary="Assign a device configuration profile",
          request="deviceConfiguration.assign", responses={200: "deviceConfigurationAssignment.collection"})
def device_configuration_assign_action(call: Call, device_configuration_id: str) -> Response:
    """Body ``{"assignments": [{"target": {...}}]}``: they replace the profile's assignments ([] removes them all).
    Targets: groupAssignmentTarget and exclusionGroupAssignmentTarget (groupId of an existing group),
    allDevicesAssignmentTarget, allLicensedUsersAssignmentTarget."""
    _existing(call, device_configuration_id)
    found = device_configuration_assign(configuration_id=device_configuration_id, body=call.body,
                                        actor=call.actor, context=call.context)
    return _assignments(call, found, f"Collection({dc.NAMESPACE}{dc.ASSIGNMENT})")


@endpoint("GET", CONFIG + "/assignments", operation=READ, tag=TAG,
          summary="List a device configuration profile's assignments",
          responses={200: "deviceConfigurationAssignment.collection"})
def device_configuration_assignments(call: Call, device_configuration_id: str) -> Response:
    return _assignments(call, assignments_of(device_configuration_id),
                        f"deviceManagement/deviceConfigurations('{device_configuration_id}')/assignments")


# --- the enrollment configuration ------------------------------------------------------------------------------------

def _enrollment(call: Call) -> dict[str, Any]:
    return dc.enrollment_to_graph(enrollment_configuration(), beta=call.version == "beta")


def _enrollment_found(call: Call, config_id: str) -> None:
    if config_id != dc.WINDOWS_HELLO_ID:
        error = GraphError.not_found(config_id)
        error.code = "not_found"
        if call.request.method != "GET":
            call.refused(error, where="{deviceEnrollmentConfiguration-id}")
        raise error


@endpoint("GET", ENROLLMENTS, operation=READ, tag=TAG, summary="List device enrollment configurations",
          responses={200: "deviceEnrollmentConfiguration.collection"})
def device_enrollment_configurations_list(call: Call) -> Response:
    """Passgate keeps one: the default Windows Hello for Business configuration (priority 0), for its "Use security
    keys for sign-in" (``securityKeyForSignIn`` on /beta, ``@passgate.securityKeyForSignIn`` on /v1.0)."""
    return Response({"@odata.context": call.metadata("deviceManagement/deviceEnrollmentConfigurations"),
                     "value": [_enrollment(call)]})


@endpoint("GET", ENROLLMENT, operation=READ, tag=TAG, summary="Get a device enrollment configuration",
          responses={200: "deviceEnrollmentConfiguration"})
def device_enrollment_configuration_get(call: Call, device_enrollment_configuration_id: str) -> Response:
    _enrollment_found(call, device_enrollment_configuration_id)
    return Response({"@odata.context": call.metadata("deviceManagement/deviceEnrollmentConfigurations/$entity"),
                     **_enrollment(call)})


@endpoint("PATCH", ENROLLMENT, operation=WRITE, tag=TAG,
          summary="Change the enrollment setting \"Use security keys for sign-in\"",
          request="deviceEnrollmentConfiguration.update", responses={200: "deviceEnrollmentConfiguration"})
def device_enrollment_configuration_patch(call: Call, device_enrollment_configuration_id: str) -> Response:
    """``securityKeyForSignIn`` (or ``@passgate.securityKeyForSignIn``): ``enabled``, ``disabled`` or
    ``notConfigured``. A change applies to devices that join from now on; devices already joined keep the value
    in force when they joined (use a configuration profile to change theirs)."""
    _enrollment_found(call, device_enrollment_configuration_id)
    config = enrollment_configuration_update(body=call.body, actor=call.actor, context=call.context)
    return Response({"@odata.context": call.metadata("deviceManagement/deviceEnrollmentConfigurations/$entity"),
                     **dc.enrollment_to_graph(config, beta=call.version == "beta")})
