"""What a browser session has proven: the methods used, in order, as Graph's ``authenticationMethodModes``.

Entra names every way of signing in with one ``authenticationMethodModes`` member; authentication strengths
and Conditional Access are written in those names, so Passgate records a session's sign-in the same way.
Passgate implements four of them (:data:`PASSGATE_MODES`): passkeys (``fido2``), authenticator-app codes
(``softwareOath``) and Temporary Access Passes (one-time and multi-use). A passkey sign-in always requires
user verification, so a passkey alone is multi-factor, as in Entra.

:func:`amr` gives the RFC 8176 ``amr`` claim of an ID token. :func:`authentication_to_json` and
:func:`authentication_from_json` keep an :class:`Authentication` in a session store; reading is tolerant
(a malformed or old record answers ``None``: the person signs in again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum, unique
from typing import Any, Final

from passgate.core.errors import InvalidInput
from passgate.core.policy.model import is_guid


@unique
class AuthMethodMode(StrEnum):
    """Graph's ``authenticationMethodModes``, every member, in Graph's (flags-enum) order."""

    PASSWORD = "password"  # noqa: S105 - a method name, not a secret
    VOICE = "voice"
    HARDWARE_OATH = "hardwareOath"
    SOFTWARE_OATH = "softwareOath"
    SMS = "sms"
    FIDO2 = "fido2"
    WINDOWS_HELLO_FOR_BUSINESS = "windowsHelloForBusiness"
    MICROSOFT_AUTHENTICATOR_PUSH = "microsoftAuthenticatorPush"
    DEVICE_BASED_PUSH = "deviceBasedPush"
    TAP_ONE_TIME = "temporaryAccessPassOneTime"
    TAP_MULTI_USE = "temporaryAccessPassMultiUse"
    EMAIL = "email"
    X509_SINGLE_FACTOR = "x509CertificateSingleFactor"
    X509_MULTI_FACTOR = "x509CertificateMultiFactor"
    FEDERATED_SINGLE_FACTOR = "federatedSingleFactor"
    FEDERATED_MULTI_FACTOR = "federatedMultiFactor"
    QR_CODE_PIN = "qrCodePin"


PASSGATE_MODES: Final[frozenset[AuthMethodMode]] = frozenset({
    AuthMethodMode.FIDO2, AuthMethodMode.SOFTWARE_OATH, AuthMethodMode.TAP_ONE_TIME, AuthMethodMode.TAP_MULTI_USE,
})

# RFC 8176 values Passgate uses.
AMR_HARDWARE_KEY: Final = "hwk"
AMR_SOFTWARE_KEY: Final = "swk"
AMR_USER_PRESENCE: Final = "user"
AMR_MULTI_FACTOR: Final = "mfa"
AMR_ONE_TIME_PASSWORD: Final = "otp"  # noqa: S105 - an amr value, not a secret

# The modes Entra's built-in Multifactor authentication strength accepts on their own (its one-mode combinations).
_MULTIFACTOR_ALONE: Final = frozenset({
    AuthMethodMode.WINDOWS_HELLO_FOR_BUSINESS, AuthMethodMode.FIDO2, AuthMethodMode.X509_MULTI_FACTOR,
    AuthMethodMode.DEVICE_BASED_PUSH, AuthMethodMode.TAP_ONE_TIME, AuthMethodMode.TAP_MULTI_USE,
    AuthMethodMode.FEDERATED_MULTI_FACTOR,
})
_OTP_MODES: Final = frozenset({AuthMethodMode.SOFTWARE_OATH, AuthMethodMode.TAP_ONE_TIME,
                               AuthMethodMode.TAP_MULTI_USE})
_NIL_GUID: Final = "00000000-0000-0000-0000-000000000000"
_JSON_VERSION: Final = 1
_MODE_VALUES: Final = frozenset(mode.value for mode in AuthMethodMode)


def _aware(value: object, what: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(f"{what} must be a timezone-aware datetime, not {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class MethodUse:
    """One method used once: its mode, when, which registered method it was (its Graph id), and for a passkey its
    model (AAGUID) and whether it is device-bound."""

    mode: AuthMethodMode  # a Graph mode string ("fido2") is taken as its member
    at: datetime  # timezone-aware
    aaguid: str | None = None  # fido2 only: lower-case GUID of the passkey's model
    device_bound: bool | None = None  # fido2 only: True when the passkey is not backup-eligible (BE=0)
    method_id: str | None = None  # the passkey's, pass's or authenticator app's id (lower-case GUID), if known

    def __post_init__(self) -> None:
        if not isinstance(self.mode, AuthMethodMode):
            if not isinstance(self.mode, str) or self.mode not in _MODE_VALUES:
                raise InvalidInput(f"mode must be an AuthMethodMode, not {self.mode!r}")
            object.__setattr__(self, "mode", AuthMethodMode(self.mode))  # Graph's spelling, "fido2"
        _aware(self.at, "MethodUse.at")
        if self.mode is not AuthMethodMode.FIDO2 and (self.aaguid is not None or self.device_bound is not None):
            raise InvalidInput(f"aaguid and device_bound describe a passkey; a {self.mode.value} use has neither")
        if self.aaguid is not None:
            if not isinstance(self.aaguid, str) or not is_guid(self.aaguid):
                raise InvalidInput(f"aaguid must be a GUID, not {self.aaguid!r}")
            object.__setattr__(self, "aaguid", self.aaguid.lower())
        if self.device_bound is not None and not isinstance(self.device_bound, bool):
            raise InvalidInput(f"device_bound must be True, False or None, not {self.device_bound!r}")
        if self.method_id is not None:
            if not isinstance(self.method_id, str) or not is_guid(self.method_id):
                raise InvalidInput(f"method_id must be a GUID, not {self.method_id!r}")
            object.__setattr__(self, "method_id", self.method_id.lower())

    @property
    def known_aaguid(self) -> str | None:
        """The AAGUID when it names a model (not absent, not all zeros)."""
        return None if self.aaguid in (None, _NIL_GUID) else self.aaguid


@dataclass(frozen=True, slots=True)
class Authentication:
    """What one browser session has proven, in order: never empty; a step-up appends (:meth:`with_method`)."""

    user_id: str
    methods: tuple[MethodUse, ...]  # a list is taken as a tuple

    def __post_init__(self) -> None:
        if not isinstance(self.user_id, str) or not self.user_id:
            raise InvalidInput("An authentication needs the id of the person who signed in")
        if isinstance(self.methods, list):
            object.__setattr__(self, "methods", tuple(self.methods))
        if not isinstance(self.methods, tuple) or not self.methods:
            raise InvalidInput("An authentication needs at least one method use")
        if not all(isinstance(use, MethodUse) for use in self.methods):
            raise InvalidInput("An authentication's methods must be MethodUse values")

    @property
    def auth_time(self) -> datetime:
        """When the person last proved something (the latest method use): OpenID Connect's ``auth_time``."""
        return max(use.at for use in self.methods)

    @property
    def signed_in_at(self) -> datetime:
        """When the session signed in (the first method use)."""
        return min(use.at for use in self.methods)

    @property
    def modes(self) -> frozenset[AuthMethodMode]:
        return frozenset(use.mode for use in self.methods)

    @property
    def method_ids(self) -> frozenset[str]:
        """The ids of the registered methods the session proved (a session ends when one is deleted)."""
        return frozenset(use.method_id for use in self.methods if use.method_id is not None)

    @property
    def method_ids_by_mode(self) -> dict[AuthMethodMode, frozenset[str]]:
        """The same ids by the mode each was used as (which kind of method, so where to look it up)."""
        found: dict[AuthMethodMode, set[str]] = {}
        for use in self.methods:
            if use.method_id is not None:
                found.setdefault(use.mode, set()).add(use.method_id)
        return {mode: frozenset(ids) for mode, ids in found.items()}

    def with_method(self, use: MethodUse) -> Authentication:
        """The session after a step-up with ``use``."""
        return Authentication(user_id=self.user_id, methods=(*self.methods, use))

    def releasing(self, method_id: str) -> Authentication:
        """The same proof, no longer tied to the method ``method_id`` (which this session itself deleted)."""
        key = method_id.lower()
        return Authentication(user_id=self.user_id, methods=tuple(
            replace(use, method_id=None) if use.method_id == key else use for use in self.methods))


def amr(auth: Authentication) -> tuple[str, ...]:
    """RFC 8176 ``amr`` values, sorted and unique.

    A passkey gives ``hwk`` when it is device-bound (else ``swk``: synced, or not known), plus ``user`` (user
    verification is always required) and ``mfa`` (a user-verified passkey is multi-factor). A Temporary Access
    Pass or an authenticator-app code gives ``otp``; a pass also ``mfa``, because Entra's built-in Multifactor
    authentication strength (and so the ``acr`` Passgate gives a pass session, ``…0002``) counts either pass mode
    as multifactor. ``mfa`` also whenever two different modes were used. So ``mfa`` is in ``amr`` exactly when the
    session meets a built-in strength.
    """
    values: set[str] = set()
    for use in auth.methods:
        if use.mode is AuthMethodMode.FIDO2:
            values.add(AMR_HARDWARE_KEY if use.device_bound is True else AMR_SOFTWARE_KEY)
            values.update((AMR_USER_PRESENCE, AMR_MULTI_FACTOR))
        elif use.mode in _OTP_MODES:
            values.add(AMR_ONE_TIME_PASSWORD)
            if use.mode in _MULTIFACTOR_ALONE:
                values.add(AMR_MULTI_FACTOR)
        elif use.mode in _MULTIFACTOR_ALONE:
            values.add(AMR_MULTI_FACTOR)
    if len(auth.modes) >= 2:
        values.add(AMR_MULTI_FACTOR)
    return tuple(sorted(values))


def authentication_to_json(auth: Authentication) -> dict[str, Any]:
    """A JSON-safe dict for a session store (times in UTC, ISO 8601)."""
    methods: list[dict[str, Any]] = []
    for use in auth.methods:
        item: dict[str, Any] = {"mode": use.mode.value, "at": use.at.astimezone(UTC).isoformat()}
        if use.aaguid is not None:
            item["aaguid"] = use.aaguid
        if use.device_bound is not None:
            item["deviceBound"] = use.device_bound
        if use.method_id is not None:
            item["methodId"] = use.method_id
        methods.append(item)
    return {"v": _JSON_VERSION, "userId": auth.user_id, "methods": methods}


def _use_from_json(data: object) -> MethodUse | None:
    if not isinstance(data, Mapping) or set(data) - {"mode", "at", "aaguid", "deviceBound", "methodId"}:
        return None
    mode, at = data.get("mode"), data.get("at")
    if not isinstance(mode, str) or mode not in _MODE_VALUES or not isinstance(at, str):
        return None
    aaguid, device_bound, method_id = data.get("aaguid"), data.get("deviceBound"), data.get("methodId")
    if ((aaguid is not None and not isinstance(aaguid, str))
            or (device_bound is not None and not isinstance(device_bound, bool))
            or (method_id is not None and not isinstance(method_id, str))):
        return None
    try:
        when = datetime.fromisoformat(at)
        return MethodUse(mode=AuthMethodMode(mode), at=when, aaguid=aaguid, device_bound=device_bound,
                         method_id=method_id)
    except (ValueError, InvalidInput):
        return None


def authentication_from_json(data: object) -> Authentication | None:
    """The :class:`Authentication` :func:`authentication_to_json` wrote, or ``None`` for anything else.

    Never raises: a malformed or old record means the person signs in again.
    """
    try:
        if not isinstance(data, Mapping):
            return None
        version = data.get("v")
        if type(version) is not int or version != _JSON_VERSION:
            return None
        user_id, raw = data.get("userId"), data.get("methods")
        if not isinstance(user_id, str) or not user_id or not isinstance(raw, list) or not raw:
            return None
        methods = [_use_from_json(item) for item in raw]
        if any(use is None for use in methods):
            return None
        return Authentication(user_id=user_id, methods=tuple(use for use in methods if use is not None))
    except (InvalidInput, ValueError, TypeError, OverflowError):
        return None
