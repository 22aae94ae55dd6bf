"""The one error the policy code raises for a refused policy document or change.

Graph answers a bad PATCH with ``400`` and an error naming what is wrong; ``target`` carries the
JSON path of the offending property (``passkeyProfiles[1].keyRestrictions.aaGuids[0]``) so the API
adapter can put it in the error body and the UI can put the message next to the right field.
"""

from __future__ import annotations

from typing import Final

from passgate.core.errors import InvalidInput

# Reason codes (camelCase, as Microsoft Graph spells its error codes).
INVALID_PROPERTY: Final = "invalidProperty"  # wrong JSON type, unknown enum member, malformed GUID, out of range
UNKNOWN_PROPERTY: Final = "unknownProperty"  # a property this resource does not have
READ_ONLY_PROPERTY: Final = "readOnlyProperty"  # id, defaultPasskeyProfile, the default profile's name, ...
MISSING_PROPERTY: Final = "missingProperty"  # a required property of a new collection member is absent
NOT_SUPPORTED: Final = "notSupported"  # a real Graph property Passgate does not implement (registrationEnforcement)
POLICY_RULE: Final = "policyRuleViolation"  # the document parses but breaks a rule (max 3 profiles, ...)
ADMIN_LOCKOUT: Final = "adminLockout"  # no enabled Global Administrator could still sign in


class PolicyValidationError(InvalidInput):
    """A policy document or change was refused. ``target`` is the JSON path it is about ("" for the whole body);
    ``message`` starts with it, ``detail`` is the rest."""

    code = INVALID_PROPERTY

    def __init__(self, message: str, *, target: str, code: str | None = None, detail: str = "") -> None:
        super().__init__(message, code=code)
        self.target = target
        self.detail = detail or message  # what is wrong, without the property path (a form names the field)
