"""Temporary Access Pass: issue bounds, every refusal, back-off instead of lock-out, no enumeration (same answer,
same SQL), no plain pass stored."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from passgate.audit.models import AuditEvent
from passgate.audit.services import NO_CONTEXT, Actor, RequestContext
from passgate.core import tap as tap_rules
from passgate.core import throttle as throttle_rules
from passgate.core.errors import AccessDenied, InvalidInput, TemporaryAccessPassRejected, Throttled
from passgate.core.throttle import Scope
from passgate.credentials import services, throttle
from passgate.credentials.models import TemporaryAccessPass, ThrottleCounter
from passgate.directory.services import user_set_enabled
from tests.services.support import audit_rows, failures, sql_shape

pytestmark = pytest.mark.django_db
ADMIN = Actor.system("test-admin")


def refused(upn: Any, tap: Any, *, context: RequestContext = NO_CONTEXT) -> Any:
    with pytest.raises((TemporaryAccessPassRejected, AccessDenied, Throttled)) as info:
        services.tap_signin(upn=upn, tap=tap, context=context)
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


@pytest.mark.parametrize(("upn", "tap"), [(None, "x"), ("a@b.c", None), (123, 456), ("", ""), ("x" * 500, "y" * 500),
                                         ("\ud800@b.c", "x"), ("a@b.c", "\ud800"), ("a\x00@b.c", "x\x00")])
def test_odd_input_is_a_generic_refusal(make_user: Any, upn: Any, tap: Any) -> None:
    err = refused(upn, tap)
    assert (err.code, err.message) == ("tap_invalid", services.GENERIC_TAP_FAILURE)
    (row,) = failures("tap.signIn", "tap_invalid")
    assert len(row.details["upnGiven"]) <= 113


STRANGER = RequestContext(ip_address="203.0.113.66")
OWNER = RequestContext(ip_address="198.51.100.7")
WRONG = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
USER_RULE = throttle_rules.RULES[Scope.TAP_USER]
SOURCE_RULE = throttle_rules.RULES[Scope.SOURCE]


def test_a_strangers_wrong_guesses_make_the_owner_wait_but_never_lock_the_pass(make_user: Any, issue_tap: Any,
                                                                                clock: Any) -> None:
    user = make_user()
    plain = issue_tap(user, usable_once=False)
    for _ in range(10):  # what used to lock the pass for good
        err = refused(user.user_principal_name, WRONG, context=STRANGER)
        assert err.code in {"tap_invalid", "tap_throttled"}
        clock.advance(err.retry_after if isinstance(err, Throttled) else 0)
    # Right after the stranger's last wrong guess the owner waits too (the right pass is not even checked)...
    err = refused(user.user_principal_name, plain, context=OWNER)
    assert isinstance(err, Throttled) and err.code == "tap_throttled"
    assert 1 <= err.retry_after <= USER_RULE.max_wait.total_seconds()
    (row,) = failures("tap.signIn", "tap_throttled")[-1:]
    assert row.details["retryAfterSeconds"] == err.retry_after and row.ip_address == OWNER.ip_address
    assert services.tap_state(TemporaryAccessPass.objects.get()) is tap_rules.TapState.USABLE
    # ... and is in once the window has passed.
    clock.advance(err.retry_after)
    assert services.tap_signin(upn=user.user_principal_name, tap=plain, context=OWNER).user.pk == user.pk


def test_the_user_name_waits_at_most_a_minute_however_many_guesses(make_user: Any, issue_tap: Any,
                                                                    clock: Any) -> None:
    user = make_user()
    plain = issue_tap(user, usable_once=False)
    for n in range(60):  # from sixty addresses, each guess as soon as it is allowed
        context = RequestContext(ip_address=f"192.0.2.{n}")
        err = refused(user.user_principal_name, WRONG, context=context)
        if isinstance(err, Throttled):
            assert err.retry_after <= USER_RULE.max_wait.total_seconds()
            clock.advance(err.retry_after)
            assert refused(user.user_principal_name, WRONG, context=context).code == "tap_invalid"
    clock.advance(USER_RULE.max_wait.total_seconds())
    assert services.tap_signin(upn=user.user_principal_name, tap=plain, context=OWNER).user.pk == user.pk


def test_one_address_guessing_at_many_names_is_slowed_down(make_user: Any, clock: Any) -> None:
    codes = [refused(f"nobody{n}@contoso.com", WRONG, context=STRANGER).code for n in range(100)]
    checked = SOURCE_RULE.free_failures + 1  # the last free one, then one more whose wait starts the back-off
    assert codes == ["tap_invalid"] * checked + ["tap_throttled"] * (100 - checked)
    assert len(failures("tap.signIn", "tap_throttled")) == 100 - checked
    # Another address is not slowed down by this one.
    assert refused("nobody0@contoso.com", WRONG, context=OWNER).code == "tap_invalid"
    # The wait doubles with each checked failure and the next guess is checked once it has passed.
    for expected in (1, 2, 4, 8):
        err = refused("someone@contoso.com", WRONG, context=STRANGER)
        assert isinstance(err, Throttled) and err.retry_after == expected
        clock.advance(expected)
        assert refused("someone@contoso.com", WRONG, context=STRANGER).code == "tap_invalid"


def test_a_correct_pass_clears_the_user_names_failures_not_the_addresses(make_user: Any, issue_tap: Any,
                                                                         clock: Any) -> None:
    user = make_user()
    plain = issue_tap(user, usable_once=False)
    for _ in range(USER_RULE.free_failures):
        refused(user.user_principal_name, WRONG, context=OWNER)
    services.tap_signin(upn=user.user_principal_name, tap=plain, context=OWNER)
    counters = {row.scope: row.failures for row in ThrottleCounter.objects.all()}
    assert counters == {Scope.TAP_USER.value: 0, Scope.SOURCE.value: USER_RULE.free_failures}
    # A correct but unusable pass is no guess: it counts nothing either way.
    TemporaryAccessPass.objects.update(revoked_at=timezone.now())
    assert refused(user.user_principal_name, plain, context=OWNER).code == "tap_revoked"
    assert {row.scope: row.failures for row in ThrottleCounter.objects.all()} == counters


def test_counters_name_no_user_and_no_address(make_user: Any, issue_tap: Any) -> None:
    user = make_user(upn="named@contoso.com")
    issue_tap(user)
    refused("named@contoso.com", WRONG, context=STRANGER)
    refused("nobody@contoso.com", WRONG, context=STRANGER)
    rows = list(ThrottleCounter.objects.values_list("scope", "key", "failures"))
    assert sorted((scope, failures) for scope, _key, failures in rows) == [
        ("source", 2), ("tap.user", 1), ("tap.user", 1)]
    for _scope, key, _failures in rows:
        assert "named" not in key and "nobody" not in key and "203.0.113" not in key and len(key) == 64


def test_the_purge_keeps_what_is_still_remembered(make_user: Any, clock: Any) -> None:
    refused("nobody@contoso.com", WRONG, context=STRANGER)
    assert throttle.throttle_purge() == 0
    clock.advance(SOURCE_RULE.forget_after.total_seconds())
    assert throttle.throttle_purge() == 1  # the address is forgotten after an hour; the user name after a day
    assert list(ThrottleCounter.objects.values_list("scope", flat=True)) == ["tap.user"]
    clock.advance(USER_RULE.forget_after.total_seconds())
    assert throttle.throttle_purge() == 1
    assert not ThrottleCounter.objects.exists()


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


def test_an_unknown_user_name_runs_the_same_sql_as_a_wrong_pass(make_user: Any, issue_tap: Any) -> None:
    issue_tap(make_user(upn="real@contoso.com"))
    shapes, answers = [], []
    for upn, context in (("real@contoso.com", STRANGER), ("nobody@contoso.com", OWNER)):
        with CaptureQueriesContext(connection) as captured:
            err = refused(upn, WRONG, context=context)
        shapes.append(sql_shape(captured))
        answers.append((type(err), err.code, err.message))
    assert shapes[0] == shapes[1]
    assert answers[0] == answers[1] == (TemporaryAccessPassRejected, "tap_invalid", services.GENERIC_TAP_FAILURE)


@pytest.mark.django_db(transaction=True)
def test_twenty_guesses_at_once_are_counted_one_after_another(make_user: Any, issue_tap: Any, clock: Any) -> None:
    """Several app nodes share the counters: each attempt locks them, so simultaneous guesses cannot all slip in
    before the first failure is written (on PostgreSQL, row locks; on SQLite, its serialised write transactions)."""
    from django.db import connections

    user = make_user()
    issue_tap(user)
    barrier, lock, codes = threading.Barrier(20), threading.Lock(), []

    def guess(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            err = refused(user.user_principal_name, WRONG, context=RequestContext(ip_address=f"192.0.2.{n}"))
            with lock:
                codes.append(err.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a guess hung"
    checked = USER_RULE.free_failures + 1
    assert sorted(codes) == ["tap_invalid"] * checked + ["tap_throttled"] * (20 - checked)
    assert ThrottleCounter.objects.get(scope=Scope.TAP_USER.value).failures == checked
