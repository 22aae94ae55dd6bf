"""Directory value rules: user principal names, display names, group names."""

from __future__ import annotations

import re

from passgate.core.errors import InvalidInput

# Entra ID: the alias part allows A-Z a-z 0-9 ' . - _ ! # ^ ~ ; no leading/trailing/double dots.
_ALIAS = re.compile(r"^[A-Za-z0-9'_!#^~-]+(\.[A-Za-z0-9'_!#^~-]+)*$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$)({_LABEL}\.)*{_LABEL}$")
MAX_UPN_LENGTH = 113  # 64 alias + @ + 48 domain, as Entra ID documents
MAX_DISPLAY_NAME = 256


def validate_upn(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("userPrincipalName must be a string", code="invalid_upn")
    upn = value.strip()
    if len(upn) > MAX_UPN_LENGTH or upn.count("@") != 1:
        raise InvalidInput(f"{value!r} is not a user principal name like alias@domain", code="invalid_upn")
    alias, domain = upn.split("@")
    if not alias or len(alias) > 64 or not _ALIAS.match(alias) or not _DOMAIN.match(domain):
        raise InvalidInput(f"{value!r} is not a user principal name like alias@domain", code="invalid_upn")
    return upn


def normalise_upn(upn: str) -> str:
    """UPNs compare case-insensitively."""
    return upn.strip().lower()


def validate_display_name(value: object, *, what: str = "displayName") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must be a non-empty string", code="invalid_display_name")
    name = " ".join(value.split())
    if len(name) > MAX_DISPLAY_NAME or any(ord(ch) < 32 for ch in name):
        raise InvalidInput(f"{what} must be at most {MAX_DISPLAY_NAME} printable characters",
                           code="invalid_display_name")
    return name


MAX_PASSKEY_NAME = 64


def validate_passkey_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("A passkey needs a name", code="invalid_passkey_name")
    name = " ".join(value.split())
    if len(name) > MAX_PASSKEY_NAME or any(ord(ch) < 32 for ch in name):
        raise InvalidInput(f"A passkey name is at most {MAX_PASSKEY_NAME} printable characters",
                           code="invalid_passkey_name")
    return name
