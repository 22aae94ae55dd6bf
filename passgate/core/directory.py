"""Directory value rules: user principal names, display names, group names."""

from __future__ import annotations

import re

from passgate.core.errors import InvalidInput
from passgate.core.text import first_unusable

# Entra ID: the alias part allows A-Z a-z 0-9 ' . - _ ! # ^ ~ ; no leading/trailing/double dots.
_ALIAS = re.compile(r"^[A-Za-z0-9'_!#^~-]+(\.[A-Za-z0-9'_!#^~-]+)*\Z")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}\Z)({_LABEL}\.)*{_LABEL}\Z")
MAX_UPN_LENGTH = 113  # 64 alias + @ + 48 domain, as Entra ID documents
MAX_DISPLAY_NAME = 256


def validate_upn(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("userPrincipalName must be a string", code="invalid_upn", rule="format")
    upn = value.strip()
    if not upn:
        raise InvalidInput(f"{value!r} is not a user principal name like alias@domain", code="invalid_upn",
                           rule="required")
    if len(upn) > MAX_UPN_LENGTH or upn.count("@") != 1:
        raise InvalidInput(f"{value!r} is not a user principal name like alias@domain", code="invalid_upn",
                           rule="format")
    alias, domain = upn.split("@")
    if not alias or len(alias) > 64 or not _ALIAS.match(alias) or not _DOMAIN.match(domain):
        raise InvalidInput(f"{value!r} is not a user principal name like alias@domain", code="invalid_upn",
                           rule="format")
    return upn


def normalise_upn(upn: str) -> str:
    """UPNs compare case-insensitively."""
    return upn.strip().lower()


def validate_display_name(value: object, *, what: str = "displayName") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must be a non-empty string", code="invalid_display_name", rule="required")
    name = " ".join(value.split())
    if len(name) > MAX_DISPLAY_NAME:
        raise InvalidInput(f"{what} must be at most {MAX_DISPLAY_NAME} printable characters",
                           code="invalid_display_name", rule="too_long")
    if any(ord(ch) < 32 for ch in name) or first_unusable(name):
        raise InvalidInput(f"{what} must be at most {MAX_DISPLAY_NAME} printable characters",
                           code="invalid_display_name", rule="unprintable")
    return name


MAX_MAIL_NICKNAME = 64
# Graph: ASCII 0-127 except @ ( ) \ [ ] " ; : < > , and space; groups also refuse "." (Create group page).
_NICKNAME_FORBIDDEN = set('@()\\[]";:<>, ')


def validate_mail_nickname(value: object, *, allow_dot: bool = True) -> str:
    """A mailNickname (mail alias): 1-64 printable ASCII characters without @ ( ) \\ [ ] " ; : < > , or spaces."""
    forbidden = _NICKNAME_FORBIDDEN if allow_dot else _NICKNAME_FORBIDDEN | {"."}
    if (not isinstance(value, str) or not value or len(value) > MAX_MAIL_NICKNAME
            or any(not 33 <= ord(ch) <= 126 or ch in forbidden for ch in value)):
        shown = "@ ( ) \\ [ ] \" ; : < > ," + ("" if allow_dot else " .")
        raise InvalidInput(f"mailNickname must be 1-{MAX_MAIL_NICKNAME} ASCII characters without spaces or any of "
                           f"{shown}", code="invalid_mail_nickname")
    return value


def mail_nickname_from(text: str, *, allow_dot: bool = True) -> str:
    """A valid mailNickname derived from a UPN alias or a name (for objects created without one)."""
    keep = "".join(ch for ch in text if 33 <= ord(ch) <= 126 and ch not in _NICKNAME_FORBIDDEN
                   and (allow_dot or ch != "."))
    return keep[:MAX_MAIL_NICKNAME] or "object"


MAX_PASSKEY_NAME = 64


def validate_passkey_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("A passkey needs a name", code="invalid_passkey_name")
    name = " ".join(value.split())
    if len(name) > MAX_PASSKEY_NAME or any(ord(ch) < 32 for ch in name) or first_unusable(name):
        raise InvalidInput(f"A passkey name is at most {MAX_PASSKEY_NAME} printable characters",
                           code="invalid_passkey_name")
    return name
