"""Authentication strengths: Graph's ``authenticationStrengthPolicy``, and whether a session satisfies one.

As in Entra, a strength is a list of allowed combinations of ``authenticationMethodModes`` (``fido2``,
``softwareOath,temporaryAccessPassOneTime``); a session satisfies it when it used every mode of one
combination. A ``fido2CombinationConfiguration`` narrows the ``fido2`` combination to passkey models
(AAGUIDs). The three built-in strengths (:data:`BUILT_IN_STRENGTHS`) are Entra's, unchanged, and can't be
changed; OpenID Connect clients ask for one with its id as an ``acr_values`` entry (:func:`acr_for`).

Where Passgate differs from Entra:

- A custom strength may combine only the modes Passgate implements
  (:data:`~passgate.core.access.methods.PASSGATE_MODES`); any other mode is refused with ``notSupported``,
  naming it. Combinations are order-insensitive and stored in Graph's order (the flags-enum order,
  ``softwareOath,temporaryAccessPassOneTime``); spaces after commas (Graph's samples have them) are dropped.
  A combination listed twice, or a mode listed twice in one combination, is refused.
- ``requirementsSatisfied`` is computed: ``mfa`` when every combination is multi-factor (a passkey, a
  Temporary Access Pass, or two modes together), else ``none``.
- Graph changes ``allowedCombinations`` only through the ``updateAllowedCombinations`` action; Passgate's
  PATCH also accepts it (and ``combinationConfigurations``, which replaces the collection).
- Read-only properties (``id``, ``policyType``, ``requirementsSatisfied``, ``createdDateTime``,
  ``modifiedDateTime``) are refused on PATCH, and on POST when they differ from what Passgate sets
  (null counts as absent).
- At most one ``fido2CombinationConfiguration`` per strength, with ``appliesToCombinations`` exactly
  ``["fido2"]``, ``fido2`` among the allowed combinations, and a non-empty list of AAGUIDs (lower-cased;
  a repeated AAGUID and the all-zero AAGUID are refused). Its id is derived from the strength's id. It
  applies to every combination that contains ``fido2``; a passkey with no AAGUID, or the all-zero one,
  never matches it.
- ``displayName`` is 1..256 characters; its uniqueness is checked where strengths are stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any, ClassVar, Final

from passgate.core.access import _json as j
from passgate.core.access.methods import PASSGATE_MODES, Authentication, AuthMethodMode
from passgate.core.policy.errors import (
    NOT_SUPPORTED,
    POLICY_RULE,
    READ_ONLY_PROPERTY,
    PolicyValidationError,
)
from passgate.core.policy.model import is_guid

MULTIFACTOR_ID: Final = "00000000-0000-0000-0000-000000000002"
PASSWORDLESS_MFA_ID: Final = "00000000-0000-0000-0000-000000000003"
PHISHING_RESISTANT_MFA_ID: Final = "00000000-0000-0000-0000-000000000004"
BUILT_IN: Final = "builtIn"
CUSTOM: Final = "custom"
REQUIREMENT_MFA: Final = "mfa"
REQUIREMENT_NONE: Final = "none"
MAX_DISPLAY_NAME: Final = 256
FIDO2_COMBINATION: Final = AuthMethodMode.FIDO2.value
NIL_AAGUID: Final = "00000000-0000-0000-0000-000000000000"
# Where the id of a strength's fido2CombinationConfiguration comes from (uuid5 of the strength's id).
_CONFIG_ID_NAMESPACE: Final = uuid.UUID("b3f0e42a-c461-4240-94c2-7237cc416138")

_MODE_ORDER: Final = {mode: index for index, mode in enumerate(AuthMethodMode)}
_MODE_BY_VALUE: Final = {mode.value: mode for mode in AuthMethodMode}
_PASSGATE_MODE_LIST: Final = ("fido2 (passkeys), softwareOath (authenticator-app codes), temporaryAccessPassOneTime "
                              "and temporaryAccessPassMultiUse (Temporary Access Passes)")

# What a person is asked to use, in a sentence ("Sign in with a passkey").
_MODE_PHRASES: Final[Mapping[AuthMethodMode, str]] = {
    AuthMethodMode.PASSWORD: "a password",
    AuthMethodMode.VOICE: "a voice call",
    AuthMethodMode.HARDWARE_OATH: "a hardware token code",
    AuthMethodMode.SOFTWARE_OATH: "an authenticator-app code",
    AuthMethodMode.SMS: "a text-message code",
    AuthMethodMode.FIDO2: "a passkey",
    AuthMethodMode.WINDOWS_HELLO_FOR_BUSINESS: "Windows Hello for Business",
    AuthMethodMode.MICROSOFT_AUTHENTICATOR_PUSH: "a Microsoft Authenticator notification",
    AuthMethodMode.DEVICE_BASED_PUSH: "passwordless phone sign-in",
    AuthMethodMode.TAP_ONE_TIME: "a one-time Temporary Access Pass",
    AuthMethodMode.TAP_MULTI_USE: "a multi-use Temporary Access Pass",
    AuthMethodMode.EMAIL: "an email one-time passcode",
    AuthMethodMode.X509_SINGLE_FACTOR: "a single-factor certificate",
    AuthMethodMode.X509_MULTI_FACTOR: "a multi-factor certificate",
    AuthMethodMode.FEDERATED_SINGLE_FACTOR: "a federated sign-in (single-factor)",
    AuthMethodMode.FEDERATED_MULTI_FACTOR: "a federated sign-in (multi-factor)",
    AuthMethodMode.QR_CODE_PIN: "a QR code and PIN",
}
# What Passgate lacks, for a refusal ("Passgate has no password").
_NOT_IN_PASSGATE: Final[Mapping[AuthMethodMode, str]] = {
    AuthMethodMode.PASSWORD: "password",
    AuthMethodMode.VOICE: "voice-call verification",
    AuthMethodMode.HARDWARE_OATH: "hardware OATH tokens",
    AuthMethodMode.SMS: "text-message (SMS) codes",
    AuthMethodMode.WINDOWS_HELLO_FOR_BUSINESS: "Windows Hello for Business (a Windows Hello passkey is fido2)",
    AuthMethodMode.MICROSOFT_AUTHENTICATOR_PUSH: "Microsoft Authenticator push notifications",
    AuthMethodMode.DEVICE_BASED_PUSH: "passwordless phone sign-in",
    AuthMethodMode.EMAIL: "email one-time passcodes",
    AuthMethodMode.X509_SINGLE_FACTOR: "certificate-based authentication",
    AuthMethodMode.X509_MULTI_FACTOR: "certificate-based authentication",
    AuthMethodMode.FEDERATED_SINGLE_FACTOR: "federated sign-in",
    AuthMethodMode.FEDERATED_MULTI_FACTOR: "federated sign-in",
    AuthMethodMode.QR_CODE_PIN: "QR code sign-in",
}

_STRENGTH_TYPES: Final = ("microsoft.graph.authenticationStrengthPolicy", "authenticationStrengthPolicy")
_CONFIG_TYPES: Final = ("microsoft.graph.fido2CombinationConfiguration", "fido2CombinationConfiguration")
_OTHER_CONFIG_TYPES: Final = ("microsoft.graph.x509CertificateCombinationConfiguration",
                              "x509CertificateCombinationConfiguration")
_READ_ONLY: Final = ("id", "policyType", "requirementsSatisfied", "createdDateTime", "modifiedDateTime")
_WRITABLE: Final = ("displayName", "description", "allowedCombinations", "combinationConfigurations")
_STRENGTH_KEYS: Final = frozenset({*_READ_ONLY, *_WRITABLE})
_CONFIG_KEYS: Final = frozenset({"id", "appliesToCombinations", "allowedAAGUIDs"})


# ---------------------------------------------------------------------------------------------- combinations


def canonical_combination(modes: Iterable[AuthMethodMode]) -> str:
    """Graph's spelling of a combination: its modes in the flags-enum order, comma-joined without spaces."""
    return ",".join(mode.value for mode in sorted(set(modes), key=_MODE_ORDER.__getitem__))


@lru_cache(maxsize=512)
def combination_modes(combination: str) -> frozenset[AuthMethodMode]:
    """The modes of a stored combination (``"password,sms"``); ``ValueError`` for an unknown mode."""
    try:
        return frozenset(_MODE_BY_VALUE[part.strip()] for part in combination.split(","))
    except KeyError as exc:
        raise ValueError(f"{combination!r} is not a combination of authentication method modes") from exc


def is_multifactor(modes: frozenset[AuthMethodMode]) -> bool:
    """Whether a combination is multi-factor: two modes together, or one the built-in MFA strength lists alone."""
    return len(modes) >= 2 or bool(modes & _SINGLE_MODE_MFA)


def parse_combination(value: object, path: str) -> str:
    """One ``allowedCombinations`` entry, checked (Passgate's modes only) and in canonical order."""
    expected = ("a combination is one or more authentication method modes separated by commas, such as 'fido2' or "
                "'softwareOath,temporaryAccessPassOneTime'")
    if not isinstance(value, str):
        raise j.invalid(path, value, expected)
    parts = [part.strip() for part in value.split(",")]
    if not all(parts):
        raise j.invalid(path, value, expected)
    modes: list[AuthMethodMode] = []
    for part in parts:
        mode = _MODE_BY_VALUE.get(part)
        if mode is None:
            raise j.invalid(path, value, f"{part!r} is not an authentication method mode Passgate knows; Passgate "
                                         f"offers {_PASSGATE_MODE_LIST}")
        if mode not in PASSGATE_MODES:
            lacking = _NOT_IN_PASSGATE[mode]
            named = lacking if lacking.casefold() == mode.value.casefold() else f"{lacking} ({mode.value})"
            raise PolicyValidationError(f"{path}: Passgate has no {named}; a combination may use only "
                                        f"{_PASSGATE_MODE_LIST}", target=path, code=NOT_SUPPORTED)
        if mode in modes:
            raise j.invalid(path, value, f"{part!r} appears twice in one combination")
        modes.append(mode)
    return canonical_combination(modes)


# ---------------------------------------------------------------------------------------------- values


def fido2_configuration_id(strength_id: str) -> str:
    """The id Passgate gives a strength's ``fido2CombinationConfiguration`` (a strength has at most one)."""
    return str(uuid.uuid5(_CONFIG_ID_NAMESPACE, strength_id.lower()))


@dataclass(frozen=True, slots=True)
class Fido2CombinationConfiguration:
    """``fido2CombinationConfiguration``: the passkey models (AAGUIDs) the ``fido2`` combination accepts."""

    ODATA_TYPE: ClassVar[str] = "#microsoft.graph.fido2CombinationConfiguration"
    APPLIES_TO_COMBINATIONS: ClassVar[tuple[str, ...]] = (FIDO2_COMBINATION,)

    id: str
    allowed_aaguids: tuple[str, ...]  # lower-case GUIDs

    def __post_init__(self) -> None:
        if not self.allowed_aaguids:
            raise j.rule("allowedAAGUIDs", "a fido2 combination configuration needs at least one AAGUID")
        for value in self.allowed_aaguids:
            if not is_guid(value) or value != value.lower():
                raise j.invalid("allowedAAGUIDs", value, "an AAGUID is a lower-case GUID")
        j.unique(self.allowed_aaguids, "allowedAAGUIDs", "The AAGUID")

    def admits(self, aaguid: str | None) -> bool:
        """Whether a passkey of this model may satisfy the combination (never one without a real AAGUID)."""
        return aaguid is not None and aaguid.lower() != NIL_AAGUID and aaguid.lower() in self.allowed_aaguids


@dataclass(frozen=True, slots=True)
class AuthenticationStrength:
    """``authenticationStrengthPolicy``: built-in (:data:`BUILT_IN_STRENGTHS`) or custom."""

    id: str
    display_name: str
    description: str
    policy_type: str  # "builtIn" | "custom"
    requirements_satisfied: str  # "mfa" | "none"
    allowed_combinations: tuple[str, ...]  # canonical Graph strings, "fido2", "softwareOath,temporaryAccessPassOneTime"
    combination_configurations: tuple[Fido2CombinationConfiguration, ...] = ()
    created: datetime | None = None
    modified: datetime | None = None

    def __post_init__(self) -> None:
        if self.policy_type not in (BUILT_IN, CUSTOM):
            raise j.invalid("policyType", self.policy_type, "expected 'builtIn' or 'custom'")
        if self.requirements_satisfied not in (REQUIREMENT_MFA, REQUIREMENT_NONE):
            raise j.invalid("requirementsSatisfied", self.requirements_satisfied, "expected 'mfa' or 'none'")
        if not self.allowed_combinations:
            raise j.rule("allowedCombinations", "a strength needs at least one allowed combination")
        for combination in self.allowed_combinations:
            try:
                canonical = canonical_combination(combination_modes(combination))
            except ValueError:
                canonical = ""
            if canonical != combination:
                raise j.invalid("allowedCombinations", combination, "expected a canonical combination")
        j.unique(self.allowed_combinations, "allowedCombinations", "The combination")
        if len(self.combination_configurations) > 1:
            raise j.rule("combinationConfigurations", "a strength has at most one fido2 combination configuration")
        if self.combination_configurations and FIDO2_COMBINATION not in self.allowed_combinations:
            raise j.rule("combinationConfigurations", "a fido2 combination configuration needs 'fido2' among the "
                                                      "allowed combinations")
        for when in (self.created, self.modified):
            if when is not None and when.utcoffset() is None:
                raise ValueError("created and modified must be timezone-aware")

    @property
    def is_built_in(self) -> bool:
        return self.policy_type == BUILT_IN

    @property
    def fido2_configuration(self) -> Fido2CombinationConfiguration | None:
        return self.combination_configurations[0] if self.combination_configurations else None

    @property
    def kind(self) -> str:
        """``a built-in authentication strength`` or ``a custom authentication strength``, for a sentence."""
        return f"a {'built-in' if self.is_built_in else 'custom'} authentication strength"


@dataclass(frozen=True, slots=True)
class StrengthCheck:
    """Whether a session satisfies a strength, which combination it satisfied, or why not (one human sentence)."""

    satisfied: bool
    combination: str | None
    reason: str | None


# ---------------------------------------------------------------------------------------------- built-ins

_BUILT_IN_DATE: Final = datetime(2021, 12, 1, tzinfo=UTC)  # what Graph's list answers for the built-ins
_PHISHING_RESISTANT: Final = ("windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor")
_PASSWORDLESS: Final = (*_PHISHING_RESISTANT, "deviceBasedPush")
_MULTIFACTOR: Final = (
    *_PASSWORDLESS, "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse",
    "password,microsoftAuthenticatorPush", "password,softwareOath", "password,hardwareOath", "password,sms",
    "password,voice", "federatedMultiFactor", "microsoftAuthenticatorPush,federatedSingleFactor",
    "softwareOath,federatedSingleFactor", "hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor",
    "voice,federatedSingleFactor",
)
_SINGLE_MODE_MFA: Final = frozenset(_MODE_BY_VALUE[c] for c in _MULTIFACTOR if "," not in c)


def _built_in(strength_id: str, name: str, description: str, combinations: tuple[str, ...]) -> AuthenticationStrength:
    return AuthenticationStrength(id=strength_id, display_name=name, description=description, policy_type=BUILT_IN,
                                  requirements_satisfied=REQUIREMENT_MFA, allowed_combinations=combinations,
                                  created=_BUILT_IN_DATE, modified=_BUILT_IN_DATE)


MULTIFACTOR: Final = _built_in(MULTIFACTOR_ID, "Multifactor authentication",
                               "Combinations of methods that satisfy strong authentication, such as a password + SMS",
                               _MULTIFACTOR)
PASSWORDLESS_MFA: Final = _built_in(PASSWORDLESS_MFA_ID, "Passwordless MFA",
                                    "Passwordless methods that satisfy strong authentication, such as Passwordless "
                                    "sign-in with the Microsoft Authenticator", _PASSWORDLESS)
PHISHING_RESISTANT_MFA: Final = _built_in(PHISHING_RESISTANT_MFA_ID, "Phishing-resistant MFA",
                                          "Phishing-resistant, Passwordless methods for the strongest authentication, "
                                          "such as a FIDO2 security key", _PHISHING_RESISTANT)
BUILT_IN_STRENGTHS: Final[Mapping[str, AuthenticationStrength]] = MappingProxyType({
    s.id: s for s in (MULTIFACTOR, PASSWORDLESS_MFA, PHISHING_RESISTANT_MFA)})
# When an RP asks for no (known) strength, the acr is the strongest built-in the session satisfies.
_BUILT_IN_PREFERENCE: Final = (PHISHING_RESISTANT_MFA_ID, PASSWORDLESS_MFA_ID, MULTIFACTOR_ID)


# ---------------------------------------------------------------------------------------------- checking


def _or_list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _combination_phrase(modes: frozenset[AuthMethodMode]) -> str:
    phrases = [_MODE_PHRASES[mode] for mode in sorted(modes, key=_MODE_ORDER.__getitem__)]
    if len(phrases) == 1:
        return phrases[0]
    if len(phrases) == 2:
        return f"both {phrases[0]} and {phrases[1]}"
    return f"{', '.join(phrases[:-1])} and {phrases[-1]} together"


def _alternatives(strength: AuthenticationStrength) -> tuple[list[str], bool]:
    """What a person can do in Passgate to satisfy the strength, and whether any of it involves a passkey."""
    usable = [m for m in (combination_modes(c) for c in strength.allowed_combinations) if m <= PASSGATE_MODES]
    one_time, multi_use = frozenset({AuthMethodMode.TAP_ONE_TIME}), frozenset({AuthMethodMode.TAP_MULTI_USE})
    either_pass = one_time in usable and multi_use in usable
    phrases: list[str] = []
    for modes in usable:
        if either_pass and modes == multi_use:
            continue
        phrases.append("a Temporary Access Pass" if either_pass and modes == one_time else _combination_phrase(modes))
    return phrases, any(AuthMethodMode.FIDO2 in modes for modes in usable)


def strength_requirement(strength: AuthenticationStrength, *,
                         name_of: Callable[[str], str | None] = lambda _: None) -> str:
    """What a person must do to satisfy ``strength`` in Passgate, naming the strength (for a step-up page).

    ``name_of`` names a passkey model by its AAGUID (the catalogue's name); the AAGUID is shown when it answers None.
    """
    described = f"{strength.display_name} ({strength.kind})"
    alternatives, with_passkey = _alternatives(strength)
    if not alternatives:
        return f"{described} needs a sign-in method Passgate doesn't offer."
    config = strength.fido2_configuration
    if config is not None and with_passkey:
        models = ", ".join(name_of(aaguid) or aaguid for aaguid in config.allowed_aaguids)
        return f"Sign in with {_or_list(alternatives)}. {described} allows only these passkey models: {models}."
    return (f"Sign in with {_or_list(alternatives)}: {described} requires "
            f"{'it' if len(alternatives) == 1 else 'one of these'}.")


def strength_check(strength: AuthenticationStrength, auth: Authentication, *,
                   name_of: Callable[[str], str | None] = lambda _: None) -> StrengthCheck:
    """Whether ``auth`` satisfies ``strength``: every mode of one allowed combination used and, for a
    combination with ``fido2`` under a fido2 combination configuration, a passkey of an allowed model."""
    modes = auth.modes
    config = strength.fido2_configuration
    for combination in strength.allowed_combinations:
        needed = combination_modes(combination)
        if not needed <= modes:
            continue
        if (config is not None and AuthMethodMode.FIDO2 in needed
                and not any(config.admits(use.aaguid) for use in auth.methods if use.mode is AuthMethodMode.FIDO2)):
            continue
        return StrengthCheck(satisfied=True, combination=combination, reason=None)
    return StrengthCheck(satisfied=False, combination=None, reason=strength_requirement(strength, name_of=name_of))


def passkey_may_satisfy(strength: AuthenticationStrength, aaguids: Iterable[str]) -> bool:
    """Whether signing in with one of these passkeys (by AAGUID) alone could satisfy ``strength``: it allows the
    ``fido2`` combination, and its fido2 combination configuration (if any) admits one of their models."""
    if FIDO2_COMBINATION not in strength.allowed_combinations:
        return False
    config = strength.fido2_configuration
    return any(config is None or config.admits(aaguid) for aaguid in aaguids)


def find_strength(strength_id: str, strengths: Mapping[str, AuthenticationStrength]) -> AuthenticationStrength | None:
    """A strength by id (case-insensitively): a built-in always, else from ``strengths``."""
    wanted = strength_id.lower()
    built_in = BUILT_IN_STRENGTHS.get(wanted)
    if built_in is not None:
        return built_in
    found = strengths.get(strength_id) or strengths.get(wanted)
    if found is not None:
        return found
    return next((s for key, s in strengths.items() if key.lower() == wanted), None)


def acr_for(auth: Authentication, *, requested: Sequence[str],
            strengths: Mapping[str, AuthenticationStrength]) -> tuple[str | None, tuple[AuthenticationStrength, ...]]:
    """The ``acr`` for an ID token, and the requested strengths still unmet (for a step-up).

    ``requested`` is the client's ``acr_values`` in preference order, each a strength id; unknown values are
    ignored. The ``acr`` is the first requested strength the session satisfies (its id). When nothing known was
    requested it is the strongest built-in satisfied (Phishing-resistant, then Passwordless, then Multifactor
    authentication), or None. ``unmet`` lists the known requested strengths when none of them is satisfied
    (empty otherwise): the step-up page asks for a method satisfying one of them.
    """
    known: list[AuthenticationStrength] = []
    for value in requested:
        strength = find_strength(value, strengths) if isinstance(value, str) else None
        if strength is not None and all(s.id != strength.id for s in known):
            known.append(strength)
    for strength in known:
        if strength_check(strength, auth).satisfied:
            return strength.id, ()
    if known:
        return None, tuple(known)
    for strength_id in _BUILT_IN_PREFERENCE:
        if strength_check(BUILT_IN_STRENGTHS[strength_id], auth).satisfied:
            return strength_id, ()
    return None, ()


# ---------------------------------------------------------------------------------------------- Graph JSON


def _combination_configuration_to_graph(config: Fido2CombinationConfiguration) -> j.JsonObject:
    return {j.ODATA_TYPE: config.ODATA_TYPE, "id": config.id,
            "appliesToCombinations": list(config.APPLIES_TO_COMBINATIONS),
            "allowedAAGUIDs": list(config.allowed_aaguids)}


def strength_to_graph(strength: AuthenticationStrength) -> dict[str, Any]:
    """What ``GET /policies/authenticationStrengthPolicies/{id}`` answers (the adapter adds ``@odata.context``)."""
    return {
        "id": strength.id,
        "createdDateTime": j.graph_datetime(strength.created),
        "modifiedDateTime": j.graph_datetime(strength.modified),
        "displayName": strength.display_name,
        "description": strength.description,
        "policyType": strength.policy_type,
        "requirementsSatisfied": strength.requirements_satisfied,
        "allowedCombinations": list(strength.allowed_combinations),
        "combinationConfigurations": [_combination_configuration_to_graph(c)
                                      for c in strength.combination_configurations],
    }


def _combinations_from(value: object, path: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise j.invalid(path, value, "expected a non-empty JSON array of combinations, such as [\"fido2\"]")
    result: list[str] = []
    for index, item in enumerate(value):
        here = j.join(path, index)
        combination = parse_combination(item, here)
        if combination in result:
            same = "" if item == combination else f" (as {combination!r})"
            raise j.rule(here, f"the combination {item!r} is listed twice{same}")
        result.append(combination)
    return tuple(result)


def _aaguids_from(value: object, path: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise j.invalid(path, value, "expected a non-empty JSON array of AAGUIDs (passkey model ids)")
    result: list[str] = []
    for index, item in enumerate(value):
        here = j.join(path, index)
        if not isinstance(item, str):
            raise j.invalid(here, item, "an AAGUID must be a GUID such as '90a3ccdf-635c-4729-a248-9b709135078f'")
        aaguid = j.guid(item, here, "an AAGUID")
        if aaguid == NIL_AAGUID:
            raise j.rule(here, "the all-zero AAGUID doesn't name a passkey model (many passkeys report it), so it "
                               "can't be allowed")
        if aaguid in result:
            raise j.rule(here, f"the AAGUID {aaguid!r} is listed twice")
        result.append(aaguid)
    return tuple(result)


def _configuration_from(value: object, path: str, *, config_ids: Sequence[str],
                        adopt_id: bool) -> Fido2CombinationConfiguration:
    if isinstance(value, Mapping) and isinstance(value.get(j.ODATA_TYPE), str):
        given = str(value[j.ODATA_TYPE]).removeprefix("#")
        if given in _OTHER_CONFIG_TYPES:
            raise PolicyValidationError(f"{j.join(path, j.ODATA_TYPE)}: Passgate has no certificate-based "
                                        "authentication, so only fido2CombinationConfiguration is supported",
                                        target=j.join(path, j.ODATA_TYPE), code=NOT_SUPPORTED)
    body = j.obj(value, path, "fido2CombinationConfiguration", _CONFIG_KEYS, _CONFIG_TYPES)
    config_id = config_ids[0]
    if "id" in body:
        here = j.join(path, "id")
        given_id = body["id"]
        if isinstance(given_id, str) and adopt_id and is_guid(given_id):
            config_id = given_id.lower()
        elif not isinstance(given_id, str) or given_id.lower() not in config_ids:
            raise PolicyValidationError(f"{here}: {j.show(given_id)} can't be set; Passgate gives a combination "
                                        f"configuration its id ({config_ids[0]})", target=here,
                                        code=READ_ONLY_PROPERTY)
    for name in ("appliesToCombinations", "allowedAAGUIDs"):
        if name not in body:
            raise j.missing(j.join(path, name), f"a fido2 combination configuration needs {name!r}")
    applies_path = j.join(path, "appliesToCombinations")
    applies = body["appliesToCombinations"]
    if applies not in ([FIDO2_COMBINATION], (FIDO2_COMBINATION,)):
        raise j.invalid(applies_path, applies, "a fido2 combination configuration applies to [\"fido2\"] only")
    return Fido2CombinationConfiguration(id=config_id,
                                         allowed_aaguids=_aaguids_from(body["allowedAAGUIDs"],
                                                                       j.join(path, "allowedAAGUIDs")))


def _configurations_from(value: object, path: str, *, config_ids: Sequence[str],
                         adopt_id: bool = False) -> tuple[Fido2CombinationConfiguration, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise j.invalid(path, value, "expected a JSON array of combination configurations")
    if len(value) > 1:
        raise j.rule(j.join(path, 1), "a strength has at most one fido2 combination configuration; put every "
                                      "allowed AAGUID in its allowedAAGUIDs")
    return tuple(_configuration_from(item, j.join(path, index), config_ids=config_ids, adopt_id=adopt_id)
                 for index, item in enumerate(value))


def _description(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise j.invalid("description", value, "expected a string or null")
    return value


def _requirements(combinations: Sequence[str]) -> str:
    multifactor = all(is_multifactor(combination_modes(c)) for c in combinations)
    return REQUIREMENT_MFA if multifactor else REQUIREMENT_NONE


def _strength_from(body: Mapping[str, object], *, strength_id: str, created: datetime | None,
                   modified: datetime | None, config_ids: Sequence[str], blame_configurations: bool,
                   adopt_id: bool = False) -> AuthenticationStrength:
    """A custom strength from a checked body holding every writable property it has."""
    for name in ("displayName", "allowedCombinations"):
        if name not in body:
            raise j.missing(name, f"an authentication strength needs {name!r}")
    name = j.display_name(body["displayName"], "displayName", MAX_DISPLAY_NAME)
    combinations = _combinations_from(body["allowedCombinations"], "allowedCombinations")
    configurations = _configurations_from(body.get("combinationConfigurations"), "combinationConfigurations",
                                          config_ids=config_ids, adopt_id=adopt_id)
    if configurations and FIDO2_COMBINATION not in combinations:
        where = "combinationConfigurations[0].appliesToCombinations" if blame_configurations else "allowedCombinations"
        raise j.rule(where, "a fido2 combination configuration needs the combination 'fido2' in allowedCombinations; "
                            "add it, or remove the configuration")
    return AuthenticationStrength(id=strength_id, display_name=name, description=_description(body.get("description")),
                                  policy_type=CUSTOM, requirements_satisfied=_requirements(combinations),
                                  allowed_combinations=combinations, combination_configurations=configurations,
                                  created=created, modified=modified)


def _now(now: datetime) -> datetime:
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now


def strength_from_graph(doc: object, *, id: str, now: datetime) -> AuthenticationStrength:
    """``POST /policies/authenticationStrengthPolicies``: a new custom strength with the id ``id``, created ``now``.

    Raises :class:`~passgate.core.policy.errors.PolicyValidationError` naming the offending property.
    """
    if id.lower() in BUILT_IN_STRENGTHS:
        raise ValueError(f"{id} is a built-in authentication strength's id")
    _now(now)
    body = j.obj(doc, "", "authenticationStrengthPolicy", _STRENGTH_KEYS, _STRENGTH_TYPES)
    j.read_only(body, "id", id, patch=False, hint="; Passgate assigns a new strength's id")
    j.read_only(body, "policyType", CUSTOM, patch=False, hint="; a new strength is 'custom'")
    j.read_only(body, "createdDateTime", now, patch=False)
    j.read_only(body, "modifiedDateTime", now, patch=False)
    strength = _strength_from(body, strength_id=id, created=now, modified=now,
                              config_ids=(fido2_configuration_id(id),), blame_configurations=True)
    j.read_only(body, "requirementsSatisfied", strength.requirements_satisfied, patch=False,
                hint=f"; Passgate computes it from allowedCombinations (here {strength.requirements_satisfied!r})")
    return strength


def _writable(strength: AuthenticationStrength) -> j.JsonObject:
    document = strength_to_graph(strength)
    return {name: document[name] for name in _WRITABLE}


def strength_apply_patch(strength: AuthenticationStrength, patch: object, *, now: datetime) -> AuthenticationStrength:
    """``PATCH /policies/authenticationStrengthPolicies/{id}``: the strength after the change, modified ``now``.

    A property absent from the body keeps its value; ``combinationConfigurations`` replaces the collection.
    """
    if strength.is_built_in or strength.id.lower() in BUILT_IN_STRENGTHS:
        raise PolicyValidationError("Built-in authentication strengths cannot be changed", target="",
                                    code=POLICY_RULE)
    _now(now)
    body = j.obj(patch, "", "authenticationStrengthPolicy", _STRENGTH_KEYS, _STRENGTH_TYPES)
    for name in _READ_ONLY:
        j.read_only(body, name, None, patch=True)
    merged = {**_writable(strength), **{name: body[name] for name in _WRITABLE if name in body}}
    current = strength.fido2_configuration
    derived = fido2_configuration_id(strength.id)
    config_ids = (current.id, derived) if current else (derived,)
    return _strength_from(merged, strength_id=strength.id, created=strength.created, modified=now,
                          config_ids=config_ids, blame_configurations="combinationConfigurations" in body)


def strength_from_document(doc: object) -> AuthenticationStrength:
    """The strength a stored :func:`strength_to_graph` document describes (a built-in's id answers the built-in).

    Every check of a POST applies; ``id``, the dates and the combination configuration's id are taken as stored,
    ``requirementsSatisfied`` is computed again.
    """
    body = j.obj(doc, "", "authenticationStrengthPolicy", _STRENGTH_KEYS, _STRENGTH_TYPES)
    strength_id = body.get("id")
    if not isinstance(strength_id, str) or not strength_id:
        raise j.missing("id", "a stored authentication strength needs its id")
    built_in = BUILT_IN_STRENGTHS.get(strength_id.lower())
    if built_in is not None:
        return built_in
    if body.get("policyType", CUSTOM) != CUSTOM:
        raise j.invalid("policyType", body.get("policyType"), "a stored strength that is not built in is 'custom'")
    return _strength_from(body, strength_id=strength_id,
                          created=j.parse_datetime(body.get("createdDateTime"), "createdDateTime"),
                          modified=j.parse_datetime(body.get("modifiedDateTime"), "modifiedDateTime"),
                          config_ids=(fido2_configuration_id(strength_id),), blame_configurations=True,
                          adopt_id=True)

