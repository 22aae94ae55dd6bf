"""App roles an app registration defines (Graph's ``appRole``) and the ``roles`` claim they make. Plain values in
and out.

- An app role: ``id`` (a GUID of the app's choosing, the role's name for good), ``value`` (what the ``roles``
  claim carries, e.g. ``Survey.Admin``: 1 to 120 characters, no spaces, not starting with ``.``, unique in the
  app compared case-insensitively; null for a role that only shows in assignments), ``displayName``,
  ``description``, ``isEnabled``, ``allowedMemberTypes`` (only ``["User"]``: Passgate assigns roles to people and
  groups, not to apps), ``origin`` (always ``Application``).
- An enabled role is not removed nor its value changed: disable it first (Entra's rule), so no live token carries
  a role the app no longer defines. Removing a disabled role removes its assignments.
- The ``roles`` claim of a token for an app: the values of its enabled roles assigned to the person, directly or
  through a group (``role_values``); the claim is left out when there are none, as Entra does.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from passgate.core.app_api import ApiInputError

MAX_ROLES: Final = 100
MAX_TEXT: Final = 1000
MEMBER_TYPES: Final = ("User",)
# Graph: "Allowed characters are : ! # $ % & ' ( ) * + , - . / : ; < = > ? @ [ ] ^ + _ ` { | } ~, and characters
# in the ranges 0-9, A-Z and a-z. Any other character, including the space character, aren't allowed. May not
# begin with ." (appRole.value, at most 120 characters)
ROLE_VALUE = re.compile(r"^[A-Za-z0-9:!#$%&'()*+,\-/;<=>?@\[\]^_`{|}~][A-Za-z0-9:!#$%&'()*+,\-./;<=>?@\[\]^_`{|}~]"
                        r"{0,119}$")
ROLE_FIELDS: Final = ("allowedMemberTypes", "description", "displayName", "id", "isEnabled", "origin", "value")
CODE: Final = "invalid_app_role"


@dataclass(frozen=True)
class AppRole:
    """Graph's appRole."""

    id: str
    display_name: str
    value: str | None = None
    description: str | None = None
    is_enabled: bool = True

    def as_graph(self) -> dict[str, Any]:
        return {"allowedMemberTypes": list(MEMBER_TYPES), "description": self.description,
                "displayName": self.display_name, "id": self.id, "isEnabled": self.is_enabled,
                "origin": "Application", "value": self.value}


def role_from_stored(stored: Mapping[str, Any]) -> AppRole:
    """An app role as ``AppRole.as_graph`` stored it."""
    return AppRole(id=str(stored["id"]), display_name=str(stored.get("displayName") or ""),
                   value=stored.get("value"), description=stored.get("description"),
                   is_enabled=bool(stored.get("isEnabled", True)))


def _bad(target: str, message: str, code: str = CODE) -> ApiInputError:
    return ApiInputError(target, message, code=code)


def _text(value: object, target: str, *, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise _bad(target, f"'{target}' must be a {'non-empty ' if required else ''}string.")
    if len(value) > MAX_TEXT or any(ord(ch) < 0x20 for ch in value):
        raise _bad(target, f"'{target}' must be at most {MAX_TEXT} characters, without control characters.")
    return value


def guid(value: object) -> str | None:
    """A GUID in its canonical form (lower case, dashed), or None when ``value`` is not one."""
    if not isinstance(value, str) or len(value) != 36:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def read_app_role(value: object, target: str) -> AppRole:
    """One appRole object as a Graph body sends it."""
    if not isinstance(value, dict):
        raise _bad(target, f"'{target}' must be an appRole object.")
    for name in value:
        if name not in ROLE_FIELDS:
            raise _bad(f"{target}.{name}", f"Property '{name}' of '{target}' does not exist; an appRole takes "
                       f"{', '.join(ROLE_FIELDS)}.")
    if value.get("origin") not in (None, "Application"):
        raise _bad(f"{target}.origin", f"'{target}.origin' is set by Passgate (Application).")
    role_id = guid(value.get("id"))
    if role_id is None:
        raise _bad(f"{target}.id", f"'{target}.id' is required: a GUID of your choosing that names the role for good.")
    types = value.get("allowedMemberTypes")
    if types != list(MEMBER_TYPES):
        raise _bad(f"{target}.allowedMemberTypes", f"'{target}.allowedMemberTypes' must be [\"User\"]: Passgate "
                   "assigns app roles to people and groups; roles for applications ('Application') are not "
                   "supported.", code="app_role_member_types_not_supported")
    enabled = value.get("isEnabled", True)
    if enabled is not None and not isinstance(enabled, bool):
        raise _bad(f"{target}.isEnabled", f"'{target}.isEnabled' must be true or false.")
    role_value = value.get("value")
    if role_value is not None and not isinstance(role_value, str):
        raise _bad(f"{target}.value", f"'{target}.value' must be a string or null.")
    role = AppRole(id=role_id, display_name=_text(value.get("displayName"), f"{target}.displayName",
                                                  required=True) or "",
                   value=role_value, description=_text(value.get("description"), f"{target}.description",
                                                       required=False),
                   is_enabled=enabled is not False)
    _check_role(role, target)
    return role


def _check_role(role: AppRole, target: str) -> None:
    """What ``read_app_role`` checks, for a role made elsewhere (the command line)."""
    if role.value is not None and not ROLE_VALUE.match(role.value):
        raise _bad(f"{target}.value", f"{role.value[:120]!r} is not a valid app role value (e.g. Survey.Admin): 1 to "
                   "120 letters, digits and punctuation, no spaces, not starting with '.'.")
    if guid(role.id) is None:
        raise _bad(f"{target}.id", f"'{target}.id' must be a GUID.")
    if not role.display_name.strip():
        raise _bad(f"{target}.displayName", f"'{target}.displayName' must be a non-empty string.")


def validate_app_roles(roles: Sequence[AppRole], *, target: str = "appRoles") -> tuple[AppRole, ...]:
    """Each role checked; ids and values unique in the app (values compared case-insensitively)."""
    if len(roles) > MAX_ROLES:
        raise _bad(target, f"At most {MAX_ROLES} app roles.")
    ids: set[str] = set()
    values: set[str] = set()
    for index, role in enumerate(roles):
        _check_role(role, f"{target}[{index}]")
        if role.id in ids:
            raise _bad(f"{target}[{index}].id", f"Two app roles have the id {role.id}.", code="duplicate_app_role")
        if role.value is not None and role.value.lower() in values:
            raise _bad(f"{target}[{index}].value", f"Two app roles have the value {role.value!r}.",
                       code="duplicate_app_role")
        ids.add(role.id)
        if role.value is not None:
            values.add(role.value.lower())
    return tuple(roles)


def removed_enabled_roles(old: Sequence[AppRole], new: Sequence[AppRole]) -> tuple[str, ...]:
    """The names (value, else display name) of enabled roles that ``new`` drops or whose value it changes."""
    kept = {role.id: role.value for role in new}
    return tuple(role.value or role.display_name for role in old
                 if role.is_enabled and (role.id not in kept or kept[role.id] != role.value))


def assignable_role(roles: Iterable[AppRole], role_id: str) -> AppRole:
    """The role ``role_id`` names, enabled; ``InvalidInput`` otherwise (``app_role_not_found``,
    ``app_role_disabled``)."""
    role = next((r for r in roles if r.id == role_id), None)
    if role is None:
        raise _bad("appRoleId", f"The resource app defines no app role {role_id}.", code="app_role_not_found")
    if not role.is_enabled:
        raise _bad("appRoleId", f"The app role {role.value or role.display_name!r} is disabled: enable it "
                   "(isEnabled true) before assigning it.", code="app_role_disabled")
    return role


def role_values(roles: Iterable[AppRole], assigned_ids: Iterable[str]) -> tuple[str, ...]:
    """The ``roles`` claim: the values of the enabled roles among ``assigned_ids``, in the app's order."""
    wanted = {str(i) for i in assigned_ids}
    return tuple(r.value for r in roles if r.is_enabled and r.value is not None and r.id in wanted)
