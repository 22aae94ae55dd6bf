from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from passgate.core.redundancy import Fragility, PasskeyKind, fragility

ICLOUD = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
GOOGLE = "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4"
YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8"


def test_the_cases() -> None:
    assert fragility([]) is Fragility.NONE
    assert fragility([PasskeyKind(YUBIKEY, False)]) is Fragility.SINGLE
    assert fragility([PasskeyKind(ICLOUD, True)]) is Fragility.SINGLE
    assert fragility([PasskeyKind(ICLOUD, True), PasskeyKind(ICLOUD.upper(), True)]) is Fragility.ONE_PROVIDER
    assert fragility([PasskeyKind(ICLOUD, True), PasskeyKind(GOOGLE, True)]) is Fragility.REDUNDANT
    assert fragility([PasskeyKind(YUBIKEY, False), PasskeyKind(YUBIKEY, False)]) is Fragility.REDUNDANT  # two keys
    assert fragility([PasskeyKind(ICLOUD, True), PasskeyKind(YUBIKEY, False)]) is Fragility.REDUNDANT


kinds = st.builds(PasskeyKind, st.sampled_from([ICLOUD, GOOGLE, YUBIKEY]), st.booleans())


@given(st.lists(kinds, max_size=6))
def test_adding_a_device_bound_key_to_fragile_passkeys_makes_them_redundant(passkeys: list[PasskeyKind]) -> None:
    result = fragility(passkeys)
    assert (result is Fragility.NONE) == (not passkeys)
    if passkeys:
        assert fragility([*passkeys, PasskeyKind(YUBIKEY, False)]) is Fragility.REDUNDANT
    assert fragility(list(reversed(passkeys))) is result  # order never matters
