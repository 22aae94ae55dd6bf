"""Authenticator-app method: enrol with a first code, verify later codes once each, back-off on wrong codes, delete."""

from __future__ import annotations

import base64
import time
from datetime import timedelta
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from django.utils import timezone

from passgate.audit.services import Actor
from passgate.core import throttle as throttle_rules
from passgate.core import totp
from passgate.core.errors import NotFound, PassgateError, Throttled
from passgate.core.throttle import Scope
from passgate.credentials import oath, secretbox
from passgate.credentials.models import SoftwareOathMethod, ThrottleCounter
from tests.services.support import audit_rows

pytestmark = pytest.mark.django_db


def seed_of(enrolment: oath.Enrolment) -> bytes:
    text = enrolment.secret_text.replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def code_now(seed: bytes, offset: int = 0) -> str:
    return totp.code_at(seed, time.time() + offset)


@pytest.fixture
def enrolled_app(make_user: Any) -> tuple[Any, bytes, Any]:
    user = make_user()
    enrolment = oath.software_oath_enrol_begin(user=user)
    seed = seed_of(enrolment)
    # The first code proves the app has the seed; use the previous step so "now" stays free for the tests.
    method = oath.software_oath_enrol_complete(user=user, method_id=enrolment.method.id, code=code_now(seed, -30))
    return user, seed, method


def test_enrolment_needs_a_correct_first_code(make_user: Any) -> None:
    user = make_user()
    enrolment = oath.software_oath_enrol_begin(user=user)
    assert enrolment.uri.startswith(f"otpauth://totp/Passgate:{user.user_principal_name}?")
    with pytest.raises(totp.TotpRejected):
        oath.software_oath_enrol_complete(user=user, method_id=enrolment.method.id, code="000000"
                                          if code_now(seed_of(enrolment)) != "000000" else "111111")
    assert not SoftwareOathMethod.objects.get(pk=enrolment.method.pk).is_verified
    oath.software_oath_enrol_complete(user=user, method_id=enrolment.method.id, code=code_now(seed_of(enrolment)))
    assert SoftwareOathMethod.objects.get(pk=enrolment.method.pk).is_verified
    assert [(r.activity, r.result) for r in audit_rows(activity="softwareOath.register")] == [
        ("softwareOath.register", "failure"), ("softwareOath.register", "success")]


def test_the_seed_is_sealed_and_bound_to_its_owner(enrolled_app: Any, make_user: Any) -> None:
    _, seed, method = enrolled_app
    stored = bytes(SoftwareOathMethod.objects.get(pk=method.pk).sealed_secret)
    assert seed not in stored
    other = make_user()
    with pytest.raises(InvalidTag):  # AES-GCM authentication fails for another owner
        secretbox.open_sealed(stored, purpose=oath.PURPOSE, associated=f"{method.pk}:{other.pk}".encode())


def test_enrolment_of_another_user_or_expired_is_not_found(make_user: Any) -> None:
    user, other = make_user(), make_user()
    enrolment = oath.software_oath_enrol_begin(user=user)
    for who, method_id in ((other, enrolment.method.id), (user, "not-a-uuid")):
        with pytest.raises(NotFound):
            oath.software_oath_enrol_complete(user=who, method_id=method_id, code=code_now(seed_of(enrolment)))
    SoftwareOathMethod.objects.filter(pk=enrolment.method.pk).update(created_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(NotFound):
        oath.software_oath_enrol_complete(user=user, method_id=enrolment.method.id, code=code_now(seed_of(enrolment)))


def test_a_code_verifies_once(enrolled_app: Any) -> None:
    user, seed, _ = enrolled_app
    code = code_now(seed)
    oath.software_oath_verify(user=user, code=code)
    with pytest.raises(totp.TotpRejected) as err:
        oath.software_oath_verify(user=user, code=code)
    assert err.value.code == "totp_reused"


def wrong_code(seed: bytes, at: float) -> str:
    valid = {totp.code_at(seed, at + drift) for drift in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def test_wrong_codes_make_the_person_wait_with_doubling_waits_never_a_lock(enrolled_app: Any, clock: Any) -> None:
    user, seed, _ = enrolled_app
    rule = throttle_rules.RULES[Scope.TOTP_USER]
    for _ in range(rule.free_failures + 1):
        with pytest.raises(totp.TotpRejected) as wrong:
            oath.software_oath_verify(user=user, code=wrong_code(seed, clock.now.timestamp()))
        assert wrong.value.code == "totp_invalid"
    # Even the right code is refused while the wait runs, and the refusal says for how long.
    with pytest.raises(Throttled) as err:
        oath.software_oath_verify(user=user, code=totp.code_at(seed, clock.now.timestamp()))
    assert (err.value.code, err.value.retry_after) == ("totp_throttled", rule.first_wait.total_seconds())
    (row,) = audit_rows(activity="softwareOath.verify", reason="totp_throttled")
    assert row.details == {"retryAfterSeconds": 30}
    clock.advance(err.value.retry_after)
    oath.software_oath_verify(user=user, code=totp.code_at(seed, clock.now.timestamp()))
    assert ThrottleCounter.objects.get(scope=Scope.TOTP_USER.value).failures == 0  # a right code forgets


def test_the_wait_doubles_up_to_a_day(enrolled_app: Any, clock: Any) -> None:
    user, seed, _ = enrolled_app
    rule = throttle_rules.RULES[Scope.TOTP_USER]
    waits = []
    for _ in range(rule.free_failures + rule.ramp + 3):
        try:
            oath.software_oath_verify(user=user, code=wrong_code(seed, clock.now.timestamp()))
        except Throttled as exc:
            waits.append(exc.retry_after)
            clock.advance(exc.retry_after)
        except totp.TotpRejected:
            continue
        with pytest.raises(totp.TotpRejected):
            oath.software_oath_verify(user=user, code=wrong_code(seed, clock.now.timestamp()))
    assert waits[:3] == [30, 60, 120]
    assert max(waits) == rule.max_wait.total_seconds() == 86_400


def test_input_that_is_no_code_counts_nothing(enrolled_app: Any) -> None:
    user, _, _ = enrolled_app
    for _ in range(20):
        with pytest.raises(totp.TotpRejected) as err:
            oath.software_oath_verify(user=user, code="12ab")
        assert err.value.code == "totp_malformed"
    assert not ThrottleCounter.objects.exists()


def test_a_user_without_an_app_is_told_so(make_user: Any) -> None:
    with pytest.raises(PassgateError) as err:
        oath.software_oath_verify(user=make_user(), code="123456")
    assert err.value.code == "no_software_oath_method"


def test_delete_is_audited(enrolled_app: Any) -> None:
    user, _, method = enrolled_app
    oath.software_oath_delete(method=method, actor=Actor(id=user.pk, name=user.user_principal_name))
    assert not SoftwareOathMethod.objects.filter(pk=method.pk).exists()
    assert audit_rows(activity="softwareOath.delete")
