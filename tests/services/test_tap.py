"""Temporary Access Pass: issue bounds, every refusal, lock-out, no enumeration, no plain pass stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.core import tap as tap_rules
from passgate.core.errors import AccessDenied, InvalidInput, TemporaryAccessPassRejected
from passgate.credentials import services
from passgate.credentials.models import TemporaryAccessPass
from passgate.directory.services import user_set_enabled
from tests.services.support import audit_rows, failures

pytestmark = pytest.mark.django_db
ADMIN = Actor.system("test-admin")


def refused(upn: str, tap: str) -> TemporaryAccessPassRejected | AccessDenied:
    with pytest.raises((TemporaryAccessPassRejected, AccessDenied)) as info:
        services.tap_signin(upn=upn, tap=tap)
    return info.value


@pytest.mark.parametrize("minutes", [10, 60, 43_200])
def test_lifetime_within_bounds_is_accepted(make_user: Any, minutes: int) -> None:
    row, _plain = services.tap_issue(user=make_user(), actor=ADMIN, lifetime_minutes=minutes)
    assert TemporaryAccessPass.objects.get(pk=row.pk).lifetime_minutes == minutes


@pytest.mark.parametrize("minutes", [9, 43_201, 0, -10, True, 60.0, "60"])
def test_lifetime_outside_bounds_is_refused(make_user: Any, minutes: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        services.tap_issue(user=make_user(), actor=ADMIN, lifetime_minutes=minutes)
    assert info.value.code == "invalid_tap_lifetime"
    assert TemporaryAccessPass.objects.count() == 0
    assert [(r.result, r.reason) for r in audit_rows(activity="tap.issue")] == [("failure", "invalid_tap_lifetime")]


def test_no_lifetime_means_the_policy_default(make_user: Any) -> None:
    row, _plain = services.tap_issue(user=make_user(), actor=ADMIN)
    assert (row.lifetime_minutes, row.is_usable_once) == (60, True)


def test_issue_shape_and_audit(make_user: Any) -> None:
    user = make_user(upn="new.hire@contoso.com")
    row, plain = services.tap_issue(user=user, actor=ADMIN, lifetime_minutes=120, usable_once=False)
    groups = plain.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert set("".join(groups)) <= set(tap_rules.ALPHABET)
    (event,) = audit_rows(activity="tap.issue")
    assert event.actor_name == "test-admin" and event.target_id == str(user.pk)
    assert event.details == {"lifetimeInMinutes": 120, "isUsableOnce": False, "tapId": str(row.id)}
    assert row.created_by == "test-admin"


def test_stored_digest_never_equals_or_contains_the_plain_pass(make_user: Any) -> None:
    user = make_user()
    _row, plain = services.tap_issue(user=user, actor=ADMIN)
    services.tap_signin(upn=user.user_principal_name, tap=plain)
    stored = TemporaryAccessPass.objects.get()
    digest = bytes(stored.digest)
    assert len(digest) == 32
    for form in {plain, plain.replace("-", ""), plain.lower(), plain.replace("-", "").lower()}:
        assert digest != form.encode()
        assert form.encode() not in digest
        assert form.encode().hex() not in digest.hex()
        # ... and no other column of the pass, nor any audit row, carries it.
        for value in TemporaryAccessPass.objects.values().get().values():
            assert form not in str(value)
        for event in AuditEvent.objects.all():
            assert form not in repr(event.details) and form not in event.reason
    # The digest is keyed: a plain SHA-256 of the pass is not what is stored.
    import hashlib

    assert digest != hashlib.sha256(plain.replace("-", "").encode()).digest()


def test_one_time_pass_works_once(make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    plain = issue_tap(user, usable_once=True)
    result = services.tap_signin(upn=user.user_principal_name, tap=plain)
    assert result.user.pk == user.pk and result.method == "tap"
    assert TemporaryAccessPass.objects.get().used_at is not None
    err = refused(user.user_principal_name, plain)
    assert err.code == "tap_used"
    assert len(failures("tap.signIn", "tap_used")) == 1
    assert len(audit_rows(activity="tap.signIn", result="success")) == 1


def test_multi_use_pass_works_twice(make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    plain = issue_tap(user, usable_once=False)
    for _ in range(2):
        assert services.tap_signin(upn=user.user_principal_name, tap=plain).user.pk == user.pk
    assert TemporaryAccessPass.objects.get().used_at is None
    assert len(audit_rows(activity="tap.signIn", result="success")) == 2


def test_typing_is_forgiving(make_user: Any, issue_tap: Any) -> None:
    user = make_user(upn="Case.User@Contoso.com")
    plain = issue_tap(user, usable_once=False)
    for typed in (plain.lower(), plain.replace("-", " "), plain.replace("-", "")):
        assert services.tap_signin(upn="  case.user@CONTOSO.com ", tap=typed).user.pk == user.pk


def test_expired_pass(make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    plain = issue_tap(user, lifetime_minutes=10, start_at=timezone.now() - timedelta(minutes=11))
    assert refused(user.user_principal_name, plain).code == "tap_expired"
    assert len(failures("tap.signIn", "tap_expired")) == 1


def test_pass_not_yet_valid(make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    plain = issue_tap(user, start_at=timezone.now() + timedelta(hours=1))
    assert refused(user.user_principal_name, plain).code == "tap_not_yet_valid"
    assert TemporaryAccessPass.objects.get().used_at is None


def test_revoked_pass(make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    plain = issue_tap(user)
    TemporaryAccessPass.objects.update(revoked_at=timezone.now())
    assert refused(user.user_principal_name, plain).code == "tap_revoked"


def test_wrong_pass_and_unknown_user_are_indistinguishable(make_user: Any, issue_tap: Any) -> None:
    user = make_user(upn="real@contoso.com")
    issue_tap(user)
    wrong = refused("real@contoso.com", "ABCD-EFGH-JKMN-PQRS")
    unknown = refused("nobody@contoso.com", "ABCD-EFGH-JKMN-PQRS")
    assert type(wrong) is type(unknown) is TemporaryAccessPassRejected
    assert wrong.code == unknown.code == "tap_invalid"
    assert wrong.message == unknown.message == services.GENERIC_TAP_FAILURE
    assert str(wrong) == str(unknown)

    rows = failures("tap.signIn", "tap_invalid")
    assert len(rows) == 2
    by_upn = {row.details["upnGiven"]: row for row in rows}
    assert by_upn["real@contoso.com"].actor_id == user.pk
    assert by_upn["nobody@contoso.com"].actor_id is None


def test_a_user_without_any_pass_looks_the_same(make_user: Any) -> None:
    make_user(upn="nopass@contoso.com")
    err = refused("nopass@contoso.com", "ABCD-EFGH-JKMN-PQRS")
    assert (err.code, err.message) == ("tap_invalid", services.GENERIC_TAP_FAILURE)


@pytest.mark.parametrize(("upn", "tap"), [(None, "x"), ("a@b.c", None), (123, 456), ("", ""), ("x" * 500, "y" * 500)])
def test_odd_input_is_a_generic_refusal(make_user: Any, upn: Any, tap: Any) -> None:
    err = refused(upn, tap)
    assert (err.code, err.message) == ("tap_invalid", services.GENERIC_TAP_FAILURE)
    (row,) = failures("tap.signIn", "tap_invalid")
    assert len(row.details["upnGiven"]) <= 113


def test_ten_wrong_attempts_lock_the_pass(make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    plain = issue_tap(user, usable_once=False)
    for _ in range(tap_rules.MAX_FAILED_ATTEMPTS):
        assert refused(user.user_principal_name, "ZZZZ-ZZZZ-ZZZZ-ZZZZ").code == "tap_invalid"
    assert TemporaryAccessPass.objects.get().failed_attempts == 10
    err = refused(user.user_principal_name, plain)
    assert err.code == "tap_locked"
    assert len(failures("tap.signIn", "tap_locked")) == 1
    assert audit_rows(activity="tap.signIn", result="success") == []


def test_nine_wrong_attempts_do_not_lock(make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    plain = issue_tap(user)
    for _ in range(tap_rules.MAX_FAILED_ATTEMPTS - 1):
        refused(user.user_principal_name, "ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert services.tap_signin(upn=user.user_principal_name, tap=plain).user.pk == user.pk


def test_disabled_user_is_refused_and_the_pass_is_not_used_up(make_user: Any, issue_tap: Any) -> None:
    user = make_user()
    plain = issue_tap(user)
    user_set_enabled(user=user, enabled=False, actor=ADMIN)
    err = refused(user.user_principal_name, plain)
    assert isinstance(err, AccessDenied) and err.code == "user_disabled"
    assert TemporaryAccessPass.objects.get().used_at is None
    assert len(failures("tap.signIn", "user_disabled")) == 1


def test_another_users_pass_does_not_work(make_user: Any, issue_tap: Any) -> None:
    alice, bob = make_user(), make_user()
    plain = issue_tap(alice)
    assert refused(bob.user_principal_name, plain).code == "tap_invalid"
