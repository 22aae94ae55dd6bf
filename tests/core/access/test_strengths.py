"""Authentication strengths: the built-ins, checking a session against one, and the acr of a session."""

from __future__ import annotations

from dataclasses import replace

import pytest

from passgate.core.access.methods import AuthMethodMode
from passgate.core.access.strengths import (
    BUILT_IN_STRENGTHS,
    MULTIFACTOR,
    MULTIFACTOR_ID,
    PASSWORDLESS_MFA,
    PASSWORDLESS_MFA_ID,
    PHISHING_RESISTANT_MFA,
    PHISHING_RESISTANT_MFA_ID,
    AuthenticationStrength,
    Fido2CombinationConfiguration,
    acr_for,
    canonical_combination,
    combination_modes,
    find_strength,
    strength_check,
    strength_from_graph,
    strength_requirement,
    strength_to_graph,
)
from passgate.core.policy.errors import PolicyValidationError
from tests.core.access.helpers import (
    FEITIAN,
    ICLOUD,
    NIL,
    NOW,
    STRENGTH_ID,
    YUBIKEY_5,
    contractor_keys,
    name_of,
    passkey,
    session,
    strength_body,
    use,
)

APP_CODE = use(AuthMethodMode.SOFTWARE_OATH)
ONE_TIME_PASS = use(AuthMethodMode.TAP_ONE_TIME)
MULTI_USE_PASS = use(AuthMethodMode.TAP_MULTI_USE)

MULTIFACTOR_COMBINATIONS = [
    "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush", "temporaryAccessPassOneTime",
    "temporaryAccessPassMultiUse", "password,microsoftAuthenticatorPush", "password,softwareOath",
    "password,hardwareOath", "password,sms", "password,voice", "federatedMultiFactor",
    "microsoftAuthenticatorPush,federatedSingleFactor", "softwareOath,federatedSingleFactor",
    "hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor"]


def test_built_ins_are_entras() -> None:
    assert list(BUILT_IN_STRENGTHS) == [MULTIFACTOR_ID, PASSWORDLESS_MFA_ID, PHISHING_RESISTANT_MFA_ID]
    assert [strength_to_graph(s) for s in BUILT_IN_STRENGTHS.values()] == [
        {"id": "00000000-0000-0000-0000-000000000002", "createdDateTime": "2021-12-01T00:00:00Z",
         "modifiedDateTime": "2021-12-01T00:00:00Z", "displayName": "Multifactor authentication",
         "description": "Combinations of methods that satisfy strong authentication, such as a password + SMS",
         "policyType": "builtIn", "requirementsSatisfied": "mfa", "allowedCombinations": MULTIFACTOR_COMBINATIONS,
         "combinationConfigurations": []},
        {"id": "00000000-0000-0000-0000-000000000003", "createdDateTime": "2021-12-01T00:00:00Z",
         "modifiedDateTime": "2021-12-01T00:00:00Z", "displayName": "Passwordless MFA",
         "description": "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with "
                        "the Microsoft Authenticator",
         "policyType": "builtIn", "requirementsSatisfied": "mfa",
         "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"],
         "combinationConfigurations": []},
        {"id": "00000000-0000-0000-0000-000000000004", "createdDateTime": "2021-12-01T00:00:00Z",
         "modifiedDateTime": "2021-12-01T00:00:00Z", "displayName": "Phishing-resistant MFA",
         "description": "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 "
                        "security key",
         "policyType": "builtIn", "requirementsSatisfied": "mfa",
         "allowedCombinations": ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
         "combinationConfigurations": []},
    ]


def test_built_in_combinations_are_in_canonical_order() -> None:
    for strength in BUILT_IN_STRENGTHS.values():
        for combination in strength.allowed_combinations:
            assert canonical_combination(combination_modes(combination)) == combination


def test_built_ins_are_read_only_mappings() -> None:
    with pytest.raises(TypeError):
        BUILT_IN_STRENGTHS[STRENGTH_ID] = MULTIFACTOR  # type: ignore[index]


def test_canonical_order_is_graphs() -> None:
    modes = [AuthMethodMode.TAP_ONE_TIME, AuthMethodMode.SOFTWARE_OATH, AuthMethodMode.SOFTWARE_OATH]
    assert canonical_combination(modes) == "softwareOath,temporaryAccessPassOneTime"
    assert combination_modes("password, sms") == {AuthMethodMode.PASSWORD, AuthMethodMode.SMS}
    with pytest.raises(ValueError, match="not a combination"):
        combination_modes("password,magic")


@pytest.mark.parametrize(("strength", "uses", "combination"), [
    (PHISHING_RESISTANT_MFA, (passkey(),), "fido2"),
    (PHISHING_RESISTANT_MFA, (passkey(None, device_bound=None),), "fido2"),
    (PHISHING_RESISTANT_MFA, (APP_CODE,), None),
    (PHISHING_RESISTANT_MFA, (ONE_TIME_PASS,), None),
    (PASSWORDLESS_MFA, (passkey(ICLOUD, device_bound=False),), "fido2"),
    (PASSWORDLESS_MFA, (MULTI_USE_PASS,), None),
    (MULTIFACTOR, (ONE_TIME_PASS,), "temporaryAccessPassOneTime"),
    (MULTIFACTOR, (MULTI_USE_PASS,), "temporaryAccessPassMultiUse"),
    (MULTIFACTOR, (APP_CODE,), None),
    (MULTIFACTOR, (APP_CODE, use(AuthMethodMode.PASSWORD)), "password,softwareOath"),
    (MULTIFACTOR, (APP_CODE, ONE_TIME_PASS), "temporaryAccessPassOneTime"),
    (MULTIFACTOR, (APP_CODE, passkey()), "fido2"),
])
def test_built_in_checks(strength: AuthenticationStrength, uses: tuple[object, ...], combination: str | None) -> None:
    check = strength_check(strength, session(*uses))  # type: ignore[arg-type]
    assert check.satisfied is (combination is not None)
    assert check.combination == combination
    assert (check.reason is None) is check.satisfied


@pytest.mark.parametrize(("uses", "combination"), [
    ((passkey(YUBIKEY_5),), "fido2"),
    ((passkey(FEITIAN, device_bound=False),), "fido2"),
    ((passkey(ICLOUD),), None),
    ((passkey(None),), None),  # no AAGUID: never an allowed model
    ((passkey(NIL),), None),  # the all-zero AAGUID: never an allowed model
    ((passkey(ICLOUD), passkey(YUBIKEY_5)), "fido2"),  # one allowed passkey is enough
    ((APP_CODE,), None),
    ((ONE_TIME_PASS,), None),
    ((APP_CODE, ONE_TIME_PASS), "softwareOath,temporaryAccessPassOneTime"),
    ((APP_CODE, MULTI_USE_PASS), None),
    ((passkey(ICLOUD), APP_CODE, ONE_TIME_PASS), "softwareOath,temporaryAccessPassOneTime"),
])
def test_custom_strength_with_passkey_models(uses: tuple[object, ...], combination: str | None) -> None:
    check = strength_check(contractor_keys(), session(*uses))  # type: ignore[arg-type]
    assert (check.satisfied, check.combination) == (combination is not None, combination)


def test_the_configuration_applies_to_every_combination_with_fido2() -> None:
    strength = replace(contractor_keys(), allowed_combinations=("fido2", "softwareOath,fido2"))
    assert not strength_check(strength, session(passkey(ICLOUD), APP_CODE)).satisfied
    assert strength_check(strength, session(passkey(FEITIAN), APP_CODE)).combination == "fido2"


def test_reason_names_the_strength_and_the_models() -> None:
    check = strength_check(contractor_keys(), session(passkey(ICLOUD)), name_of=name_of)
    assert check.reason == ("Sign in with a passkey or both an authenticator-app code and a one-time Temporary "
                            "Access Pass. Contractor keys (a custom authentication strength) allows only these passkey "
                            "models: YubiKey 5 Series, Feitian ePass.")


def test_reason_shows_an_aaguid_without_a_name() -> None:
    strength = replace(contractor_keys(), combination_configurations=(
        Fido2CombinationConfiguration(id="x", allowed_aaguids=(YUBIKEY_5, ICLOUD)),))
    assert strength_check(strength, session(APP_CODE), name_of=name_of).reason.endswith(  # type: ignore[union-attr]
        f"allows only these passkey models: YubiKey 5 Series, {ICLOUD}.")


@pytest.mark.parametrize(("strength", "sentence"), [
    (PHISHING_RESISTANT_MFA, "Sign in with a passkey: Phishing-resistant MFA (a built-in authentication strength) "
                             "requires it."),
    (PASSWORDLESS_MFA, "Sign in with a passkey: Passwordless MFA (a built-in authentication strength) requires it."),
    (MULTIFACTOR, "Sign in with a passkey or a Temporary Access Pass: Multifactor authentication (a built-in "
                  "authentication strength) requires one of these."),
])
def test_requirement_sentences_of_built_ins(strength: AuthenticationStrength, sentence: str) -> None:
    assert strength_requirement(strength) == sentence


def test_requirement_sentence_of_three_modes_and_single_passes() -> None:
    strength = strength_from_graph(strength_body(
        displayName="Belt and braces",
        allowedCombinations=["temporaryAccessPassMultiUse", "fido2,softwareOath,temporaryAccessPassOneTime"]),
        id=STRENGTH_ID, now=NOW)
    assert strength_requirement(strength) == (
        "Sign in with a multi-use Temporary Access Pass or an authenticator-app code, a passkey and a one-time "
        "Temporary Access Pass together: Belt and braces (a custom authentication strength) requires one of these.")


def test_requirement_sentence_when_passgate_cannot_satisfy() -> None:
    strength = replace(MULTIFACTOR, allowed_combinations=("password,sms",))
    assert strength_requirement(strength) == ("Multifactor authentication (a built-in authentication strength) needs a "
                                              "sign-in method Passgate doesn't offer.")


def test_find_strength() -> None:
    custom = contractor_keys()
    assert find_strength(MULTIFACTOR_ID, {}) is MULTIFACTOR
    assert find_strength(STRENGTH_ID.upper(), {STRENGTH_ID: custom}) is custom
    assert find_strength(STRENGTH_ID, {STRENGTH_ID.upper(): custom}) is custom
    assert find_strength(STRENGTH_ID, {}) is None
    # A built-in is always the built-in, whatever the store holds under its id.
    assert find_strength(MULTIFACTOR_ID, {MULTIFACTOR_ID: custom}) is MULTIFACTOR


class TestAcr:
    def test_nothing_requested_gives_the_strongest_built_in(self) -> None:
        assert acr_for(session(passkey()), requested=[], strengths={}) == (PHISHING_RESISTANT_MFA_ID, ())
        assert acr_for(session(ONE_TIME_PASS), requested=[], strengths={}) == (MULTIFACTOR_ID, ())
        assert acr_for(session(APP_CODE), requested=[], strengths={}) == (None, ())

    def test_unknown_values_are_ignored(self) -> None:
        assert acr_for(session(ONE_TIME_PASS), requested=["urn:mace:incommon:iap:silver", "0"], strengths={}) == (
            MULTIFACTOR_ID, ())

    def test_first_satisfied_requested_value_wins(self) -> None:
        custom = contractor_keys()
        auth = session(passkey(YUBIKEY_5))
        requested = ["nope", STRENGTH_ID, PHISHING_RESISTANT_MFA_ID]
        assert acr_for(auth, requested=requested, strengths={STRENGTH_ID: custom}) == (STRENGTH_ID, ())
        assert acr_for(auth, requested=[MULTIFACTOR_ID, STRENGTH_ID], strengths={STRENGTH_ID: custom}) == (
            MULTIFACTOR_ID, ())

    def test_a_less_preferred_satisfied_value_is_returned(self) -> None:
        auth = session(ONE_TIME_PASS)
        requested = [PHISHING_RESISTANT_MFA_ID, MULTIFACTOR_ID]
        assert acr_for(auth, requested=requested, strengths={}) == (MULTIFACTOR_ID, ())

    def test_unmet_lists_the_known_requested_strengths(self) -> None:
        custom = contractor_keys()
        auth = session(passkey(ICLOUD))
        requested = [STRENGTH_ID, "nope", STRENGTH_ID.upper(), PHISHING_RESISTANT_MFA_ID]
        assert acr_for(auth, requested=requested, strengths={STRENGTH_ID: custom}) == (PHISHING_RESISTANT_MFA_ID, ())
        acr, unmet = acr_for(session(APP_CODE), requested=requested, strengths={STRENGTH_ID: custom})
        assert acr is None
        assert unmet == (custom, PHISHING_RESISTANT_MFA)

    def test_requested_ids_match_case_insensitively(self) -> None:
        assert acr_for(session(passkey()), requested=[PASSWORDLESS_MFA_ID.upper()], strengths={}) == (
            PASSWORDLESS_MFA_ID, ())


def test_direct_construction_is_checked() -> None:
    with pytest.raises(PolicyValidationError, match="policyType"):
        replace(MULTIFACTOR, policy_type="magic")
    with pytest.raises(PolicyValidationError, match="requirementsSatisfied"):
        replace(MULTIFACTOR, requirements_satisfied="some")
    with pytest.raises(PolicyValidationError, match="at least one"):
        replace(MULTIFACTOR, allowed_combinations=())
    with pytest.raises(PolicyValidationError, match="canonical"):
        replace(MULTIFACTOR, allowed_combinations=("sms,password",))
    with pytest.raises(PolicyValidationError, match="canonical"):
        replace(MULTIFACTOR, allowed_combinations=("magic",))
    with pytest.raises(PolicyValidationError, match="twice"):
        replace(MULTIFACTOR, allowed_combinations=("fido2", "fido2"))
    config = Fido2CombinationConfiguration(id="c", allowed_aaguids=(YUBIKEY_5,))
    with pytest.raises(PolicyValidationError, match="at most one"):
        replace(contractor_keys(), combination_configurations=(config, config))
    with pytest.raises(PolicyValidationError, match="'fido2'"):
        replace(MULTIFACTOR, allowed_combinations=("temporaryAccessPassOneTime",), combination_configurations=(config,))
    with pytest.raises(ValueError, match="timezone-aware"):
        replace(MULTIFACTOR, created=NOW.replace(tzinfo=None))
    with pytest.raises(PolicyValidationError, match="at least one AAGUID"):
        Fido2CombinationConfiguration(id="c", allowed_aaguids=())
    with pytest.raises(PolicyValidationError, match="lower-case"):
        Fido2CombinationConfiguration(id="c", allowed_aaguids=(YUBIKEY_5.upper(),))
    with pytest.raises(PolicyValidationError, match="twice"):
        Fido2CombinationConfiguration(id="c", allowed_aaguids=(YUBIKEY_5, YUBIKEY_5))
