"""Graph's device configuration documents as Passgate keeps them (ADR 0007): custom configuration profiles
(``windows10CustomConfiguration`` with their ``omaSettings``), their assignments (``deviceConfigurationAssignment``)
and the Windows Hello for Business enrollment configuration's "Use security keys for sign-in".

Each body a client sends is read here: first property by property, so a refusal names the property and its reason
code (``DeviceConfigError``), then against the very JSON Schema ``/openapi.json`` publishes for it
(``jsonschema.violation``), so nothing the document forbids is taken. Writers turn the plain values back into Graph's
JSON. Pure: no clock, no database.

- Every ``omaSetting`` subtype Graph v1.0 has is kept as sent: Integer, Boolean, String, DateTime, FloatingPoint,
  Base64 and StringXml. Only ``./Device/Vendor/MSFT/PassportForWork/SecurityKey/UseSecurityKeyForSignin`` (any
  letter case) means something to Passgate; it must be an ``omaSettingInteger`` of 1 (on) or 0 (off). Every other
  OMA-URI is stored and shown with ``"@passgate.applicability": "notApplicable"`` (not applicable on this platform),
  never dropped. An OMA-URI may appear once per profile.
- Assignment targets: ``groupAssignmentTarget``, ``exclusionGroupAssignmentTarget`` (with ``groupId``),
  ``allDevicesAssignmentTarget``, ``allLicensedUsersAssignmentTarget``.
- The enrollment configuration: Graph v1.0's ``deviceEnrollmentWindowsHelloForBusinessConfiguration`` has no
  ``securityKeyForSignIn`` (beta has). Answers carry it as the beta property on /beta and as the instance annotation
  ``@passgate.securityKeyForSignIn`` on /v1.0; a PATCH may send either name on either version. Passgate keeps no
  Windows Hello for Business PIN or biometric settings: those properties are not in answers and are refused.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, Literal

from passgate.core.devices.signin_setting import (
    SECURITY_KEY_OMA_URI,
    AssignmentTarget,
    Enablement,
    ProfileSetting,
    TargetKind,
    is_security_key_uri,
)
from passgate.core.errors import InvalidInput
from passgate.core.graph import jsonschema as js
from passgate.core.graph.schema import format_datetime, parse_datetime

NAMESPACE: Final = "microsoft.graph."
CUSTOM_CONFIGURATION: Final = "windows10CustomConfiguration"
ASSIGNMENT: Final = "deviceConfigurationAssignment"
WINDOWS_HELLO: Final = "deviceEnrollmentWindowsHelloForBusinessConfiguration"
SECURITY_KEY_PROPERTY: Final = "securityKeyForSignIn"  # Graph beta
SECURITY_KEY_ANNOTATION: Final = "@passgate.securityKeyForSignIn"  # Passgate, on /v1.0
APPLICABILITY: Final = "@passgate.applicability"
APPLICABLE: Final = "applicable"
NOT_APPLICABLE: Final = "notApplicable"
MAX_DISPLAY_NAME: Final = 256
MAX_DESCRIPTION: Final = 1500
MAX_OMA_URI: Final = 1000
MAX_OMA_SETTINGS: Final = 200
MAX_ASSIGNMENTS: Final = 100
INT32: Final = (-(2**31), 2**31 - 1)
READ_ONLY: Final = ("id", "version", "createdDateTime", "lastModifiedDateTime")

# --- reason codes -------------------------------------------------------------------------------------------------
UNKNOWN_PROPERTY: Final = "unknown_property"
WRONG_ODATA_TYPE: Final = "wrong_odata_type"
INVALID_VALUE: Final = "invalid_value"
INVALID_SECURITY_KEY_VALUE: Final = "invalid_security_key_value"
DUPLICATE_OMA_URI: Final = "duplicate_oma_uri"
DUPLICATE_ASSIGNMENT: Final = "duplicate_assignment"
UNKNOWN_GROUP: Final = "unknown_group"


class DeviceConfigError(InvalidInput):
    """400 Request_BadRequest about one property; ``target`` is its JSON path (``omaSettings[0].value``)."""

    def __init__(self, target: str, message: str, *, code: str = INVALID_VALUE) -> None:
        super().__init__(message, code=code)
        self.target = target


# --- the omaSetting subtypes ----------------------------------------------------------------------------------------

_BASE64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
_DATETIME = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"
# subtype -> (the value's JSON Schema, has fileName)
OMA_TYPES: Mapping[str, tuple[js.Schema, bool]] = MappingProxyType({
    "omaSettingBase64": (js.string(pattern=_BASE64, description="Base64-encoded content"), True),
    "omaSettingBoolean": (js.BOOLEAN, False),
    "omaSettingDateTime": (js.string(pattern=_DATETIME, fmt="date-time"), False),
    "omaSettingFloatingPoint": ({"type": "number"}, False),
    "omaSettingInteger": (js.integer(*INT32), False),
    "omaSettingString": (js.STRING, False),
    "omaSettingStringXml": (js.string(pattern=_BASE64, description="Base64-encoded XML"), True),
})


def _types(name: str) -> list[str]:
    return [f"#{NAMESPACE}{name}", f"{NAMESPACE}{name}"]


def oma_setting_schema(kind: str, *, read: bool) -> js.Schema:
    value, has_file_name = OMA_TYPES[kind]
    applicability = js.string(enum=[APPLICABLE, NOT_APPLICABLE], description=(
        "Read-only: whether Passgate acts on this OMA-URI (only the security-key sign-in setting); the others are "
        "kept and shown, not applicable on this platform."))
    props: dict[str, js.Schema] = {
        "@odata.type": js.string(enum=[f"#{NAMESPACE}{kind}"]) if read else js.string(enum=_types(kind)),
        "displayName": js.STRING if read else js.string(min_length=1, max_length=MAX_DISPLAY_NAME),
        "description": js.nullable(js.STRING if read else js.string(max_length=MAX_DESCRIPTION)),
        "omaUri": js.STRING if read else js.string(min_length=1, max_length=MAX_OMA_URI),
        "value": value,
    }
    if has_file_name:
        props["fileName"] = js.nullable(js.STRING if read else js.string(max_length=MAX_DISPLAY_NAME))
    props[APPLICABILITY] = applicability if read else js.nullable(applicability)
    required = list(props) if read else ["@odata.type", "displayName", "omaUri", "value"]
    return js.obj(props, required=required, title=f"{NAMESPACE}{kind}")


def _oma_settings_schema(*, read: bool) -> js.Schema:
    items = {"anyOf": [oma_setting_schema(kind, read=read) for kind in OMA_TYPES],
             "description": "One of Graph's omaSetting subtypes, named by @odata.type"}
    if read:
        return js.array(items)
    return js.nullable(js.array(items, max_items=MAX_OMA_SETTINGS, description=(
        "Replaces the profile's settings. The security-key sign-in OMA-URI "
        f"({SECURITY_KEY_OMA_URI}, any letter case) must be an omaSettingInteger of 1 (on) or 0 (off); an OMA-URI "
        "may appear once.")))


_ODATA_CONTROL = {r"^@odata\.": js.ANY}


def profile_schema(mode: Literal["read", "create", "update"]) -> js.Schema:
    """``windows10CustomConfiguration`` as answers carry it (``read``) and as POST and PATCH bodies may send it."""
    if mode == "read":
        props: dict[str, js.Schema] = {
            "@odata.context": js.STRING, "@odata.type": js.string(enum=[f"#{NAMESPACE}{CUSTOM_CONFIGURATION}"]),
            "id": js.guid(), "displayName": js.STRING, "description": js.nullable(js.STRING),
            "version": js.integer(1), "createdDateTime": js.DATETIME, "lastModifiedDateTime": js.DATETIME,
            "omaSettings": _oma_settings_schema(read=True)}
        return js.obj(props, required=[p for p in props if p != "@odata.context"],
                      title=f"{NAMESPACE}{CUSTOM_CONFIGURATION}")
    ignored = "Read-only: ignored (Passgate sets it), so a GET body can be sent back."
    props = {
        "@odata.type": js.string(enum=_types(CUSTOM_CONFIGURATION), description=(
            "Required on POST: Passgate keeps windows10CustomConfiguration profiles only.")),
        "displayName": js.string(min_length=1, max_length=MAX_DISPLAY_NAME),
        "description": js.nullable(js.string(max_length=MAX_DESCRIPTION)),
        "omaSettings": _oma_settings_schema(read=False),
        "id": js.nullable(js.string(description=ignored)),
        "version": js.nullable({**js.integer(), "description": ignored}),
        "createdDateTime": js.nullable({**js.DATETIME, "description": ignored}),
        "lastModifiedDateTime": js.nullable({**js.DATETIME, "description": ignored}),
    }
    schema = js.obj(props, required=["@odata.type", "displayName"] if mode == "create" else (),
                    title=f"{NAMESPACE}{CUSTOM_CONFIGURATION} ({mode})")
    schema["patternProperties"] = dict(_ODATA_CONTROL)
    return schema


# --- assignments ----------------------------------------------------------------------------------------------------

_WITH_GROUP: Final = (TargetKind.GROUP, TargetKind.EXCLUSION_GROUP)


def target_schema(kind: TargetKind, *, read: bool) -> js.Schema:
    props: dict[str, js.Schema] = {"@odata.type": js.string(enum=[f"#{NAMESPACE}{kind.value}"] if read
                                                            else _types(kind.value))}
    if kind in _WITH_GROUP:
        props["groupId"] = js.guid("The group's id")
    return js.obj(props, required=list(props), title=f"{NAMESPACE}{kind.value}")


def _target_any(*, read: bool) -> js.Schema:
    return {"anyOf": [target_schema(kind, read=read) for kind in TargetKind],
            "description": "groupAssignmentTarget or exclusionGroupAssignmentTarget (groupId), "
                           "allDevicesAssignmentTarget or allLicensedUsersAssignmentTarget"}


ASSIGNMENT_SCHEMA: Final = js.obj({
    "@odata.type": js.string(enum=[f"#{NAMESPACE}{ASSIGNMENT}"]), "id": js.STRING, "target": _target_any(read=True)},
    required=["@odata.type", "id", "target"], title=f"{NAMESPACE}{ASSIGNMENT}")
ASSIGNMENT_INPUT: Final = js.obj({
    "@odata.type": js.string(enum=_types(ASSIGNMENT)),
    "id": js.nullable(js.string(description="Ignored: Passgate gives each assignment its id.")),
    "target": _target_any(read=False)}, required=["target"], title=f"{NAMESPACE}{ASSIGNMENT}")
ASSIGN_SCHEMA: Final = js.obj({"assignments": js.array(ASSIGNMENT_INPUT, max_items=MAX_ASSIGNMENTS, description=(
    "Replaces every assignment of the profile ([] removes them all). A target may appear once."))},
    required=["assignments"], title="assign")


# --- the enrollment configuration -----------------------------------------------------------------------------------

WINDOWS_HELLO_ID: Final = "DefaultWindowsHelloForBusiness"
WINDOWS_HELLO_NAME: Final = "All users and all devices"
WINDOWS_HELLO_DESCRIPTION: Final = ("The default Windows Hello for Business enrollment configuration, applied with "
                                    "the lowest priority to every device. Passgate keeps its \"Use security keys "
                                    "for sign-in\" setting only; a change applies to devices that join afterwards.")
_ENABLEMENT = js.string(enum=[e.value for e in Enablement])


def enrollment_schema(mode: Literal["read", "update"]) -> js.Schema:
    described = {**_ENABLEMENT, "description": (
        "Use security keys for sign-in, for devices joining from now on. Graph beta's property (answers carry it "
        f"on /beta); on /v1.0 answers carry {SECURITY_KEY_ANNOTATION}. A PATCH may send either.")}
    if mode == "read":
        props: dict[str, js.Schema] = {
            "@odata.context": js.STRING, "@odata.type": js.string(enum=[f"#{NAMESPACE}{WINDOWS_HELLO}"]),
            "id": js.STRING, "displayName": js.STRING, "description": js.STRING, "priority": js.integer(0, 0),
            "version": js.integer(1), "createdDateTime": js.DATETIME, "lastModifiedDateTime": js.DATETIME,
            SECURITY_KEY_PROPERTY: described, SECURITY_KEY_ANNOTATION: described}
        return js.obj(props, required=[p for p in props if p not in (
            "@odata.context", SECURITY_KEY_PROPERTY, SECURITY_KEY_ANNOTATION)], title=f"{NAMESPACE}{WINDOWS_HELLO}")
    schema = js.obj({"@odata.type": js.string(enum=_types(WINDOWS_HELLO)), SECURITY_KEY_PROPERTY: described,
                     SECURITY_KEY_ANNOTATION: described}, title=f"{NAMESPACE}{WINDOWS_HELLO} (update)",
                    description="Passgate keeps only the security-key setting of this configuration.")
    schema["patternProperties"] = dict(_ODATA_CONTROL)
    return schema


_INPUTS: Final = MappingProxyType({"create": profile_schema("create"), "update": profile_schema("update"),
                                   "assign": ASSIGN_SCHEMA, "enrollment": enrollment_schema("update")})

# --- plain values ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OmaSetting:
    kind: str  # "omaSettingInteger" …
    display_name: str
    oma_uri: str
    value: object
    description: str | None = None
    file_name: str | None = None

    @property
    def applicable(self) -> bool:
        return is_security_key_uri(self.oma_uri)


@dataclass(frozen=True)
class Profile:
    id: str
    display_name: str
    description: str | None
    version: int
    created: datetime
    modified: datetime
    oma_settings: tuple[OmaSetting, ...] = ()


@dataclass(frozen=True)
class Assignment:
    id: str
    target: AssignmentTarget


@dataclass(frozen=True)
class EnrollmentConfiguration:
    version: int
    created: datetime
    modified: datetime
    security_key_for_sign_in: Enablement


@dataclass(frozen=True)
class ProfileInput:
    """What a POST or PATCH body says; ``given`` names the fields it set."""

    display_name: str | None = None
    description: str | None = None
    oma_settings: tuple[OmaSetting, ...] = ()
    given: frozenset[str] = field(default_factory=frozenset)

    def gives(self, name: str) -> bool:
        return name in self.given


def security_key_value(settings: tuple[OmaSetting, ...]) -> bool | None:
    """What a profile's settings turn security-key sign-in to (None: they don't set it)."""
    found = next((s for s in settings if is_security_key_uri(s.oma_uri)), None)
    return None if found is None else found.value == 1


def profile_setting(profile: Profile, assignments: tuple[Assignment, ...]) -> ProfileSetting:
    """The profile as ``signin_setting.decide`` sees it."""
    return ProfileSetting(profile_id=profile.id, display_name=profile.display_name,
                          value=security_key_value(profile.oma_settings),
                          targets=tuple(a.target for a in assignments))


# --- reading bodies ---------------------------------------------------------------------------------------------------

def _bad(target: str, message: str, code: str = INVALID_VALUE) -> DeviceConfigError:
    return DeviceConfigError(target, message, code=code)


def _object(body: object, target: str = "") -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _bad(target, f"'{target or 'The request body'}' must be a JSON object.")
    return body


def _conform(schema: js.Schema, value: object, path: str = "") -> None:
    found = js.violation(schema, value, path)
    if found is not None:
        raise _bad(*found)


def _odata_type(value: object, name: str, target: str) -> None:
    if value not in _types(name):
        raise _bad(target, f"Invalid '@odata.type' value {value!r}: this takes '#{NAMESPACE}{name}'.",
                   WRONG_ODATA_TYPE)


def _unknown(name: str, known: tuple[str, ...], where: str = "") -> DeviceConfigError:
    path = f"{where}.{name}" if where else name
    return _bad(path, f"Property '{name}' does not exist" + (f" on '{where}'" if where else "")
                + f" or is not kept by Passgate; it takes {', '.join(known)}.", UNKNOWN_PROPERTY)


def _oma_setting(item: object, index: int) -> OmaSetting:
    where = f"omaSettings[{index}]"
    obj = _object(item, where)
    kind_name = obj.get("@odata.type")
    kind = kind_name.removeprefix("#").removeprefix(NAMESPACE) if isinstance(kind_name, str) else None
    if kind is None or kind not in OMA_TYPES:
        raise _bad(f"{where}.@odata.type", f"'{where}' must name its type in @odata.type: one of "
                   + ", ".join(f"#{NAMESPACE}{k}" for k in OMA_TYPES) + ".", WRONG_ODATA_TYPE)
    schema = oma_setting_schema(kind, read=False)
    for name in obj:
        if name not in schema["properties"]:
            raise _unknown(name, tuple(n for n in schema["properties"] if not n.startswith("@")), where)
    _conform(schema, obj, where)
    value = obj["value"]
    if kind == "omaSettingInteger":
        value = int(value)  # 1.0 is a whole number in JSON
    elif kind == "omaSettingFloatingPoint":
        value = float(value)
    elif kind == "omaSettingDateTime" and parse_datetime(value) is None:
        raise _bad(f"{where}.value", f"'{where}.value' must be a date and time, like 2026-11-22T10:00:00Z.")
    elif kind in ("omaSettingBase64", "omaSettingStringXml"):
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _bad(f"{where}.value", f"'{where}.value' must be Base64.") from None
    setting = OmaSetting(kind=kind, display_name=obj["displayName"], oma_uri=obj["omaUri"], value=value,
                         description=obj.get("description"), file_name=obj.get("fileName"))
    if setting.applicable:
        if kind != "omaSettingInteger":
            raise _bad(f"{where}.@odata.type", f"{SECURITY_KEY_OMA_URI} is an Integer setting: send it as "
                       f"#{NAMESPACE}omaSettingInteger with 1 (on) or 0 (off).", INVALID_SECURITY_KEY_VALUE)
        if value not in (0, 1):
            raise _bad(f"{where}.value", f"{SECURITY_KEY_OMA_URI} takes 1 (security-key sign-in on) or 0 (off), "
                       f"not {value}.", INVALID_SECURITY_KEY_VALUE)
    return setting


def _oma_settings(value: object) -> tuple[OmaSetting, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _bad("omaSettings", "'omaSettings' must be an array of omaSetting objects.")
    settings = tuple(_oma_setting(item, index) for index, item in enumerate(value))
    seen: dict[str, int] = {}
    for index, setting in enumerate(settings):
        key = setting.oma_uri.casefold()
        if key in seen:
            raise _bad(f"omaSettings[{index}].omaUri", f"The OMA-URI {setting.oma_uri!r} is already set by "
                       f"omaSettings[{seen[key]}]: a profile sets each OMA-URI once (compared without regard to "
                       "case).", DUPLICATE_OMA_URI)
        seen[key] = index
    return settings


_PROFILE_READERS: Mapping[str, Callable[[object], dict[str, Any]]] = MappingProxyType({
    "displayName": lambda v: {"display_name": v},
    "description": lambda v: {"description": v},
    "omaSettings": lambda v: {"oma_settings": _oma_settings(v)},
})


def read_profile(body: object, *, create: bool) -> ProfileInput:
    """A POST (``create``) or PATCH body of a custom profile, checked; raises ``DeviceConfigError`` naming the first
    problem."""
    obj = _object(body)
    schema = _INPUTS["create" if create else "update"]
    values: dict[str, Any] = {}
    for name, value in obj.items():
        if name == "@odata.type":
            _odata_type(value, CUSTOM_CONFIGURATION, name)
        elif name in ("createdDateTime", "lastModifiedDateTime"):
            # a read-only value of a GET body sent back: ignored, but it must still be what it claims to be
            if value is not None and (not isinstance(value, str) or parse_datetime(value) is None):
                raise _bad(name, f"'{name}' must be a date-time such as 2026-01-01T00:00:00Z (Passgate sets it "
                                 "and ignores the value sent).")
        elif name.startswith("@odata.") or name in READ_ONLY:
            continue  # OData control information and read-only values of a GET body sent back: ignored
        elif name in _PROFILE_READERS:
            values.update(_PROFILE_READERS[name](value))
        else:
            raise _unknown(name, tuple(_PROFILE_READERS))
    if create and "@odata.type" not in obj:
        raise _bad("@odata.type", f"'@odata.type' is required: Passgate keeps #{NAMESPACE}{CUSTOM_CONFIGURATION} "
                   "profiles.", WRONG_ODATA_TYPE)
    _conform(schema, obj)
    return ProfileInput(**values, given=frozenset(values))


def read_assignments(body: object) -> tuple[AssignmentTarget, ...]:
    """The ``assign`` action's body, ``{"assignments": [{"target": {...}}, ...]}``: the targets, in order."""
    obj = _object(body)
    for name in obj:
        if name != "assignments":
            raise _unknown(name, ("assignments",))
    if "assignments" not in obj:
        raise _bad("assignments", "'assignments' is required: the profile's assignments after this call ([] for "
                   "none).")
    items = obj["assignments"]
    if not isinstance(items, list):
        raise _bad("assignments", "'assignments' must be an array of deviceConfigurationAssignment objects.")
    targets: list[AssignmentTarget] = []
    for index, item in enumerate(items):
        where = f"assignments[{index}]"
        entry = _object(item, where)
        for name in entry:
            if name not in ("@odata.type", "id", "target"):
                raise _unknown(name, ("target",), where)
        if "@odata.type" in entry:
            _odata_type(entry["@odata.type"], ASSIGNMENT, f"{where}.@odata.type")
        target = _object(entry.get("target"), f"{where}.target")
        kind_name = target.get("@odata.type")
        kind = kind_name.removeprefix("#").removeprefix(NAMESPACE) if isinstance(kind_name, str) else None
        if kind not in {k.value for k in TargetKind}:
            raise _bad(f"{where}.target.@odata.type", "The target must name its type in @odata.type: one of "
                       + ", ".join(f"#{NAMESPACE}{k.value}" for k in TargetKind) + ".", WRONG_ODATA_TYPE)
        kind_enum = TargetKind(kind)
        schema = target_schema(kind_enum, read=False)
        for name in target:
            if name not in schema["properties"]:
                raise _unknown(name, tuple(n for n in schema["properties"] if not n.startswith("@")),
                               f"{where}.target")
        _conform(schema, target, f"{where}.target")
        group_id = str(target["groupId"]).lower() if kind_enum in _WITH_GROUP else None
        found = AssignmentTarget(kind_enum, group_id)
        if found in targets:
            raise _bad(f"{where}.target", f"'{where}.target' repeats assignments[{targets.index(found)}].target.",
                       DUPLICATE_ASSIGNMENT)
        targets.append(found)
    _conform(ASSIGN_SCHEMA, obj)
    return tuple(targets)


def read_enrollment(body: object) -> Enablement | None:
    """A PATCH body of the Windows Hello for Business enrollment configuration: the security-key setting (None: the
    body does not change it)."""
    obj = _object(body)
    found: dict[str, Enablement] = {}
    for name, value in obj.items():
        if name == "@odata.type":
            _odata_type(value, WINDOWS_HELLO, name)
        elif name.startswith("@odata."):
            continue
        elif name in (SECURITY_KEY_PROPERTY, SECURITY_KEY_ANNOTATION):
            if not isinstance(value, str) or value not in {e.value for e in Enablement}:
                raise _bad(name, f"'{name}' must be one of: notConfigured, enabled, disabled.")
            found[name] = Enablement(str(value))
        else:
            raise _unknown(name, (SECURITY_KEY_PROPERTY, SECURITY_KEY_ANNOTATION))
    if len(set(found.values())) > 1:
        raise _bad(SECURITY_KEY_ANNOTATION, f"{SECURITY_KEY_PROPERTY} and {SECURITY_KEY_ANNOTATION} name the same "
                   "setting: send one, or the same value in both.")
    _conform(_INPUTS["enrollment"], obj)
    return next(iter(found.values()), None)


# --- writing documents -----------------------------------------------------------------------------------------------

def _datetime(value: datetime) -> str:
    return format_datetime(value)


def oma_setting_to_graph(setting: OmaSetting) -> dict[str, Any]:
    out: dict[str, Any] = {"@odata.type": f"#{NAMESPACE}{setting.kind}", "displayName": setting.display_name,
                           "description": setting.description, "omaUri": setting.oma_uri, "value": setting.value}
    if OMA_TYPES[setting.kind][1]:
        out["fileName"] = setting.file_name
    out[APPLICABILITY] = APPLICABLE if setting.applicable else NOT_APPLICABLE
    return out


def profile_to_graph(profile: Profile) -> dict[str, Any]:
    return {"@odata.type": f"#{NAMESPACE}{CUSTOM_CONFIGURATION}", "id": profile.id,
            "displayName": profile.display_name, "description": profile.description, "version": profile.version,
            "createdDateTime": _datetime(profile.created), "lastModifiedDateTime": _datetime(profile.modified),
            "omaSettings": [oma_setting_to_graph(s) for s in profile.oma_settings]}


def target_to_graph(target: AssignmentTarget) -> dict[str, Any]:
    out: dict[str, Any] = {"@odata.type": f"#{NAMESPACE}{target.kind.value}"}
    if target.kind in _WITH_GROUP:
        out["groupId"] = target.group_id
    return out


def assignment_to_graph(assignment: Assignment) -> dict[str, Any]:
    return {"@odata.type": f"#{NAMESPACE}{ASSIGNMENT}", "id": assignment.id,
            "target": target_to_graph(assignment.target)}


def enrollment_to_graph(config: EnrollmentConfiguration, *, beta: bool) -> dict[str, Any]:
    return {"@odata.type": f"#{NAMESPACE}{WINDOWS_HELLO}", "id": WINDOWS_HELLO_ID, "displayName": WINDOWS_HELLO_NAME,
            "description": WINDOWS_HELLO_DESCRIPTION, "priority": 0, "version": config.version,
            "createdDateTime": _datetime(config.created), "lastModifiedDateTime": _datetime(config.modified),
            SECURITY_KEY_PROPERTY if beta else SECURITY_KEY_ANNOTATION: config.security_key_for_sign_in.value}
