"""What an application answers for the Graph v1.0 properties Passgate does not keep (``applications.UNSUPPORTED``):
Graph's empty value for each (null, [], false, or the object a new Entra app registration shows), so that SDK
models deserialize and a GET body can be sent back unchanged. docs/graph-api.md lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from passgate.core.graph import jsonschema as js
from passgate.core.graph.schema import Kind, Prop, Write

_NULLS: Final = ("applicationTemplateId", "authenticationBehaviors", "certification", "createdByAppId",
                 "defaultRedirectUri", "deletedDateTime", "description", "disabledByMicrosoftStatus",
                 "groupMembershipClaims", "isDeviceOnlyAuthSupported", "isDisabled", "nativeAuthenticationApisEnabled",
                 "notes", "optionalClaims", "publisherDomain", "requestSignatureVerification", "samlMetadataUrl",
                 "serviceManagementReference", "servicePrincipalLockConfiguration", "tokenEncryptionKeyId",
                 "uniqueName")
_LISTS: Final = ("addIns", "managerApplications", "tags")


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    return tuple(value) if isinstance(value, list) else value


EMPTY_VALUES: Final[Mapping[str, Any]] = MappingProxyType({
    **dict.fromkeys(_NULLS), **{name: () for name in _LISTS},
    "oauth2RequirePostResponse": False,
    "info": _frozen({"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None, "supportUrl": None,
                     "termsOfServiceUrl": None}),
    "parentalControlSettings": _frozen({"countriesBlockedForMinors": [], "legalAgeGroupRule": "Allow"}),
    "verifiedPublisher": _frozen({"addedDateTime": None, "displayName": None, "verifiedPublisherId": None}),
})


def empty_value(name: str) -> Any:
    """A fresh JSON value (dicts and lists) of ``EMPTY_VALUES[name]``."""
    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        return [plain(v) for v in value] if isinstance(value, tuple) else value
    return plain(EMPTY_VALUES[name])


def empty_schema(name: str) -> js.Schema:
    return {"const": empty_value(name)}


def empty_prop(name: str) -> Prop:
    """The read-only property as answers carry it (``$select`` may name it; bodies: see ``applications._other``)."""
    value = EMPTY_VALUES[name]
    kind = (Kind.BOOLEAN if isinstance(value, bool) else Kind.OBJECT if isinstance(value, Mapping)
            else Kind.OBJECT_LIST if isinstance(value, tuple) else Kind.STRING)
    return Prop(name, kind, "Not kept by Passgate: always this value.", create=Write.UNSUPPORTED,
                schema=empty_schema(name))
