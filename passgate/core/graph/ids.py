"""What a well-formed value of each Graph path parameter is, checked once for every endpoint before it runs.

Graph's object ids are GUIDs; a user is also found by userPrincipalName; a method configuration by its short name
(``fido2``); ``creationOptions(challengeTimeoutInMinutes=…)`` takes a whole number. A value of another shape names no
object: Graph's 404 ``Request_ResourceNotFound`` (400 for a number that is not one), before any lookup, so neither
a query nor an audit row ever sees an over-long or unusable id. Every path parameter of every endpoint must be listed
in :data:`PATH_PARAMETERS` (the registry refuses an endpoint with an unlisted one).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from enum import StrEnum, unique
from types import MappingProxyType
from typing import Final

from passgate.core.directory import MAX_UPN_LENGTH, validate_upn
from passgate.core.errors import InvalidInput
from passgate.core.graph.errors import GraphCode, GraphError, not_found_message
from passgate.core.text import first_unusable, replace_unusable

MALFORMED_ID: Final = "malformed_id"
MAX_SHOWN: Final = 64
_NAME = re.compile(r"[A-Za-z0-9]{1,64}")
_NUMBER = re.compile(r"[0-9]{1,9}")
_ROLE_ASSIGNMENT = re.compile(r"[A-Za-z0-9_-]{43}-1")


@unique
class IdShape(StrEnum):
    GUID = "guid"
    USER = "guid or userPrincipalName"
    NAME = "name"  # letters and digits, at most 64
    NUMBER = "whole number"
    ROLE_ASSIGNMENT = "role assignment id"  # Entra's: 43 base64url characters and "-1" (core.roles)


PATH_PARAMETERS: Final[Mapping[str, IdShape]] = MappingProxyType({
    "user-id": IdShape.USER,
    "group-id": IdShape.GUID,
    "organization-id": IdShape.GUID,
    "directoryObject-id": IdShape.GUID,
    "application-id": IdShape.GUID,
    "appId": IdShape.GUID,
    "authenticationStrengthPolicy-id": IdShape.GUID,
    "authenticationCombinationConfiguration-id": IdShape.GUID,
    "conditionalAccessPolicy-id": IdShape.GUID,
    "signIn-id": IdShape.GUID,
    "directoryAudit-id": IdShape.GUID,
    "device-id": IdShape.GUID,
    "fido2AuthenticationMethod-id": IdShape.GUID,
    "softwareOathAuthenticationMethod-id": IdShape.GUID,
    "temporaryAccessPassAuthenticationMethod-id": IdShape.GUID,
    "authenticationMethodConfiguration-id": IdShape.NAME,
    "deviceConfiguration-id": IdShape.GUID,
    "deviceEnrollmentConfiguration-id": IdShape.NAME,
    "challengeTimeoutInMinutes": IdShape.NUMBER,
    "unifiedRoleDefinition-id": IdShape.GUID,
    "unifiedRoleAssignment-id": IdShape.ROLE_ASSIGNMENT,
    "directoryRole-id": IdShape.GUID,
    "directoryRoleTemplate-id": IdShape.GUID,
    "appRoleAssignment-id": IdShape.GUID,
})


def shown(value: str) -> str:
    """A path value as an error message may repeat it: at most 64 characters, NUL and lone surrogates replaced."""
    return replace_unusable(value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN] + "…")


def _is_guid(value: str) -> bool:
    if len(value) > 45:  # "urn:uuid:" + 36
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_upn(value: str) -> bool:
    try:
        validate_upn(value)
    except InvalidInput:
        return False
    return True


def well_formed(shape: IdShape, value: str) -> bool:
    """Whether ``value`` has ``shape`` (and no NUL or lone surrogate, and a bounded length)."""
    if first_unusable(value) is not None or len(value) > MAX_UPN_LENGTH + 2:
        return False
    if shape is IdShape.GUID:
        return _is_guid(value)
    if shape is IdShape.USER:
        return _is_guid(value.strip()) or _is_upn(value)
    if shape is IdShape.NAME:
        return _NAME.fullmatch(value) is not None
    if shape is IdShape.ROLE_ASSIGNMENT:
        return _ROLE_ASSIGNMENT.fullmatch(value) is not None
    return _NUMBER.fullmatch(value) is not None


def check_path_parameter(name: str, value: str) -> None:
    """Nothing for a well-formed value; else the GraphError Graph answers (reason code ``malformed_id``)."""
    shape = PATH_PARAMETERS[name]
    if well_formed(shape, value):
        return
    if shape is IdShape.NUMBER:
        error = GraphError.bad_request(f"{name}: '{shown(value)}' is not a whole number")
    else:
        error = GraphError(404, GraphCode.RESOURCE_NOT_FOUND, not_found_message(shown(value)))
    error.code = MALFORMED_ID
    raise error
