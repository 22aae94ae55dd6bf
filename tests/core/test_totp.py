"""RFC 6238 Appendix B vectors (SHA-1) and Passgate's rules: ±1 step, no reuse, strict input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passgate.core import totp
from passgate.core.errors import InvalidInput

RFC_SECRET = b"12345678901234567890"


@pytest.mark.parametrize(
    ("unix_time", "eight_digits"),
    [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924"),
     (2000000000, "69279037"), (20000000000, "65353130")],
)
def test_rfc6238_appendix_b_sha1(unix_time: int, eight_digits: str) -> None:
    # The RFC lists 8-digit codes; 6 digits are the last six of the same value.
    assert totp.code_at(RFC_SECRET, unix_time) == eight_digits[-6:]


def test_one_step_of_drift_each_way_and_no_more() -> None:
    now = 1_700_000_000
    for offset, ok in [(-60, False), (-30, True), (0, True), (30, True), (60, False)]:
        code = totp.code_at(RFC_SECRET, now + offset)
        if ok:
            assert totp.verify(RFC_SECRET, code, unix_time=now, last_used_step=None).step == totp.step_at(now + offset)
        else:
            with pytest.raises(totp.TotpRejected) as err:
                totp.verify(RFC_SECRET, code, unix_time=now, last_used_step=None)
            assert err.value.code == "totp_invalid"


def test_a_used_code_and_older_codes_are_refused() -> None:
    now = 1_700_000_000
    used = totp.verify(RFC_SECRET, totp.code_at(RFC_SECRET, now), unix_time=now, last_used_step=None).step
    for t in (now, now - 30):
        with pytest.raises(totp.TotpRejected) as err:
            totp.verify(RFC_SECRET, totp.code_at(RFC_SECRET, t), unix_time=now, last_used_step=used)
        assert err.value.code == "totp_reused"
    assert totp.verify(RFC_SECRET, totp.code_at(RFC_SECRET, now + 30), unix_time=now + 30, last_used_step=used)


FULLWIDTH_DIGITS = "\uff11\uff12\uff13\uff14\uff15\uff16"


@pytest.mark.parametrize("code", ["", "12345", "1234567", "12a456", None, 123456, FULLWIDTH_DIGITS, "12 34 5"])
def test_malformed_codes(code: Any) -> None:
    with pytest.raises(totp.TotpRejected) as err:
        totp.verify(RFC_SECRET, code, unix_time=0, last_used_step=None)
    assert err.value.code == "totp_malformed"


def test_spaces_are_ignored() -> None:
    code = totp.code_at(RFC_SECRET, 1000)
    assert totp.verify(RFC_SECRET, f"{code[:3]} {code[3:]}", unix_time=1000, last_used_step=None)


def test_provisioning_uri_and_secret_display() -> None:
    uri = totp.provisioning_uri(RFC_SECRET, account="ada@contoso.com", issuer="Passgate")
    assert uri.startswith("otpauth://totp/Passgate:ada@contoso.com?")
    assert "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" in uri and "issuer=Passgate" in uri and "period=30" in uri
    assert totp.secret_base32(RFC_SECRET) == "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"


def test_secret_needs_enough_randomness() -> None:
    with pytest.raises(InvalidInput):
        totp.new_secret(b"short")
    assert len(totp.new_secret(bytes(32))) == totp.SECRET_BYTES


@given(st.text(max_size=12), st.integers(min_value=0, max_value=2**40))
def test_random_input_never_verifies_by_accident_or_crashes(code: str, now: int) -> None:
    expected = {totp.hotp(RFC_SECRET, s) for s in range(max(0, totp.step_at(now) - 1), totp.step_at(now) + 2)}
    try:
        totp.verify(RFC_SECRET, code, unix_time=now, last_used_step=None)
    except totp.TotpRejected:
        assert "".join(code.split()) not in expected
    else:
        assert "".join(code.split()) in expected
