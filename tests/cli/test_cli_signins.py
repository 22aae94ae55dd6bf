"""``passgate audit signins`` and ``passgate audit purge-signins``, called in-process against the test database."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from passgate.audit.models import AuditEvent, SignInEvent
from passgate.audit.services import RequestContext
from passgate.audit.signins import SignInError, signin_record
from passgate.cli import main

pytestmark = pytest.mark.django_db(transaction=True)

APPLE_PASSWORDS = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd"
PAYROLL, WIKI = "6a1f8a7e-6bd2-4d3e-9a51-1c0cbb1f2d11", "0c9b7a8e-1111-4a2b-9c3d-2e4f5a6b7c8d"




def ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 0, err
    assert err == ""
    return out


def sign_in(upn: str, app_id: str, app_name: str, **overrides: Any) -> SignInEvent:
    kwargs: dict[str, Any] = {
        "user_id": None, "user_principal_name": upn, "app_id": app_id, "app_display_name": app_name,
        "context": RequestContext(ip_address="203.0.113.7"), "succeeded": True,
        "authentication_details": [{"authenticationMethod": "Passkey (FIDO2)", "succeeded": True}],
        "aaguid": APPLE_PASSWORDS, "conditional_access_status": "success",
    }
    kwargs.update(overrides)
    return signin_record(**kwargs)


def test_audit_signins(cli: Any) -> None:
    assert ok(cli("audit", "signins")).strip() == "(no sign-ins)"
    assert json.loads(ok(cli("audit", "signins", "--json"))) == []
    first = sign_in("ada@contoso.com", PAYROLL, "Payroll")
    SignInEvent.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    sign_in("grace@contoso.com", WIKI, "Wiki", succeeded=False, error_code=SignInError.INVALID_CREDENTIALS,
            reason_code="unknown_credential", aaguid=None, authentication_details=[],
            conditional_access_status="notApplied")

    lines = ok(cli("audit", "signins")).splitlines()
    assert len(lines) == 2  # oldest of the latest first, like audit tail
    assert lines[0].endswith("ada@contoso.com -> Payroll [Passkey (FIDO2) (Apple Passwords)] ca=success success")
    assert lines[1].endswith("grace@contoso.com -> Wiki [-] ca=notApplied failure 50126 unknown_credential")

    data = json.loads(ok(cli("audit", "signins", "--json", "--user", "ADA@contoso.com")))
    assert [(d["userPrincipalName"], d["appId"], d["succeeded"], d["aaguid"]) for d in data] == [
        ("ada@contoso.com", PAYROLL, True, APPLE_PASSWORDS)]
    assert [d["appId"] for d in json.loads(ok(cli("audit", "signins", "--json", "--app", WIKI)))] == [WIKI]
    failures = json.loads(ok(cli("audit", "signins", "--json", "--failures")))
    assert [(d["errorCode"], d["reasonCode"]) for d in failures] == [(50126, "unknown_credential")]
    assert [d["appId"] for d in json.loads(ok(cli("audit", "signins", "--json", "--limit", "1")))] == [WIKI]
    assert ok(cli("audit", "signins", "--user", "nobody@contoso.com")).strip() == "(no sign-ins)"


@pytest.mark.parametrize("argv", [
    ("audit", "signins", "--limit", "0"),
    ("audit", "signins", "--limit", "many"),
    ("audit", "signins", "--failures", "yes"),
    ("audit", "purge-signins"),
    ("audit", "purge-signins", "--older-than-days", "0"),
])
def test_bad_usage(argv: tuple[str, ...], capsys: Any) -> None:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "error:" in err


def test_purge_signins(cli: Any) -> None:
    old = sign_in("ada@contoso.com", PAYROLL, "Payroll")
    SignInEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=100))
    recent = sign_in("ada@contoso.com", PAYROLL, "Payroll")
    assert ok(cli("audit", "purge-signins", "--older-than-days", "90")).strip() == (
        "Deleted 1 sign-in event older than 90 days.")
    assert list(SignInEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert json.loads(ok(cli("audit", "purge-signins", "--older-than-days", "90", "--json"))) == {
        "deleted": 0, "olderThanDays": 90}
    purges = AuditEvent.objects.filter(activity="signIns.purge").order_by("occurred_at")
    assert [p.details for p in purges] == [{"olderThanDays": 90, "deleted": 1}, {"olderThanDays": 90, "deleted": 0}]
    assert purges[0].actor_name.startswith("cli:")


def test_oidc_purge_deletes_what_expired_and_is_audited(capsys: Any) -> None:
    import json
    from datetime import timedelta

    from django.utils import timezone

    from passgate.apps.models import ClientAssertionJti
    from passgate.apps.services import OidcRegistration, app_create
    from passgate.audit.models import AuditEvent
    from passgate.audit.services import Actor
    from passgate.cli import main

    app, _ = app_create(display_name="RP", permissions=[], actor=Actor.system("test"),
                        oidc=OidcRegistration(redirect_uris=("https://rp.example.org/cb",)))
    ClientAssertionJti.objects.create(app=app, jti_sha256=b"\x01" * 32,
                                      expires_at=timezone.now() - timedelta(minutes=1))
    ClientAssertionJti.objects.create(app=app, jti_sha256=b"\x02" * 32,
                                      expires_at=timezone.now() + timedelta(minutes=5))
    assert main(["oidc", "purge", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"deleted": 1}
    assert AuditEvent.objects.get(activity="oidc.purge").details["deleted"] == 1
    assert ClientAssertionJti.objects.count() == 1
    with pytest.raises(SystemExit) as bad:
        main(["oidc", "purge", "--older-than-days", "0"])
    assert bad.value.code == 2


def test_throttle_purge_forgets_only_what_the_rules_forgot(cli: Any, clock: Any) -> None:
    from passgate.core.errors import PassgateError
    from passgate.credentials.models import ThrottleCounter
    from passgate.credentials.services import tap_signin

    with pytest.raises(PassgateError):
        tap_signin(upn="nobody@contoso.com", tap="ZZZZ", context=RequestContext(ip_address="203.0.113.5"))
    assert ok(cli("throttle", "purge")).strip() == "Deleted 0 back-off counters with nothing left to remember."
    clock.advance(3600)  # an address's failures are forgotten after an hour, a user name's after a day
    assert json.loads(ok(cli("throttle", "purge", "--json"))) == {"deleted": 1}
    assert list(ThrottleCounter.objects.values_list("scope", flat=True)) == ["tap.user"]
    purges = AuditEvent.objects.filter(activity="throttle.purge").order_by("occurred_at")
    assert [p.details for p in purges] == [{"deleted": 0}, {"deleted": 1}]
