"""No refusal can fail to be audited: every value written to an audit or sign-in row is bounded by its model field
(on PostgreSQL a value longer than a varchar used to fail the INSERT, so the refusal answered 500 unaudited), and
text no database stores (NUL, lone surrogates) is replaced. Over-long names through the services are refused with
their reason code and audited. Every stored JSON document reads back through the scrubbing decoder."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.apps import apps
from django.db import models

from passgate.audit.models import AuditEvent, Category, SignInEvent
from passgate.audit.services import Actor, RequestContext, Target, audit_failure
from passgate.audit.signins import SignInError, signin_record
from passgate.core.errors import InvalidInput

pytestmark = pytest.mark.django_db

NASTY = "a\x00b\ud800c\udfff" + "x" * 2000
CONTEXT = RequestContext(ip_address="not an address\x00", user_agent=NASTY)
SYSTEM = Actor.system("test")


def first_unusable(value: str) -> str | None:
    return next((ch for ch in value if ch == "\x00" or 0xD800 <= ord(ch) <= 0xDFFF), None)


def _char_fields(model: type[models.Model]) -> dict[str, int]:
    return {f.name: f.max_length for f in model._meta.concrete_fields
            if isinstance(f, models.CharField) and f.max_length is not None}


def _clean(value: Any) -> bool:
    if isinstance(value, str):
        return first_unusable(value) is None
    if isinstance(value, dict):
        return all(_clean(k) and _clean(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_clean(v) for v in value)
    return True


def _bounded(row: models.Model) -> None:
    row.refresh_from_db()
    for name, limit in _char_fields(type(row)).items():
        value = getattr(row, name)
        assert len(value) <= limit, (name, len(value), limit)
        assert first_unusable(value) is None, name


def test_an_audit_row_takes_any_value_bounded_by_its_model() -> None:
    row = audit_failure(category=Category.DIRECTORY, activity="graph." + NASTY, reason=NASTY,
                        actor=Actor(id=None, name=NASTY), target=Target(type=NASTY, id=NASTY, name=NASTY),
                        context=CONTEXT, details={"path": NASTY, NASTY: [NASTY, {"x": NASTY}], "n": 1})
    _bounded(row)
    assert row.ip_address is None
    assert row.reason == "a\ufffdb\ufffdc\ufffd" + "x" * 58  # the reason column is 64 characters
    assert _clean(row.details) and row.details["n"] == 1 and len(row.details["path"]) == len(NASTY)


def test_a_sign_in_row_takes_any_value_bounded_by_its_model() -> None:
    event = signin_record(user_id=None, user_principal_name=NASTY, user_display_name=NASTY, app_id=NASTY,
                          app_display_name=NASTY, context=CONTEXT, succeeded=False, error_code=SignInError.OTHER,
                          failure_reason=NASTY, reason_code=NASTY, correlation_id=NASTY, resource_id=NASTY,
                          resource_display_name=NASTY, acr=NASTY, amr=[NASTY],
                          authentication_details=[{"authenticationMethod": NASTY, "succeeded": False}],
                          applied_policies=[{"id": NASTY, "displayName": NASTY, "result": "failure",
                                             "reason": NASTY}])
    _bounded(event)
    assert event.ip_address is None
    assert _clean(event.authentication_details) and _clean(event.applied_policies) and _clean(event.amr)


def test_the_bounds_follow_the_model_not_a_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    field = AuditEvent._meta.get_field("target_name")
    assert isinstance(field, models.CharField)
    monkeypatch.setattr(field, "max_length", 10)
    row = audit_failure(category=Category.DIRECTORY, activity="x", reason="r", target=Target("t", "i", "n" * 50))
    assert row.target_name == "n" * 10


def test_every_stored_json_document_reads_through_the_scrubbing_decoder() -> None:
    from passgate.core.text import ScrubbingJSONDecoder

    fields = [(m.__name__, f) for m in apps.get_models() if m.__module__.startswith("passgate.")
              for f in m._meta.concrete_fields if isinstance(f, models.JSONField)]
    assert len(fields) > 10
    assert [(name, f.name) for name, f in fields if f.decoder is not ScrubbingJSONDecoder] == []


# --- over-long and unusable names through the services: refused, audited, on PostgreSQL too ------------------------

def test_over_long_names_are_refused_with_their_reason_and_audited(make_user: Any) -> None:
    from passgate.access.services import strength_create
    from passgate.apps.services import app_create
    from passgate.credentials.services import passkey_rename
    from passgate.directory.services import group_create, user_create, user_update
    from tests.graph.methods import stored_passkey

    long = "N" * 300
    user = make_user(upn="pat@contoso.com")
    passkey = stored_passkey(user)
    attempts = [
        ("user.add", "invalid_display_name", lambda: user_create(upn="a@contoso.com", display_name=long, actor=SYSTEM)),
        ("user.add", "invalid_upn", lambda: user_create(upn=long + "@contoso.com", display_name="A", actor=SYSTEM)),
        ("user.update", "invalid_display_name", lambda: user_update(user=user, display_name=long, actor=SYSTEM)),
        ("group.add", "invalid_display_name", lambda: group_create(display_name=long, actor=SYSTEM)),
        ("app.add", "invalid_display_name", lambda: app_create(display_name=long, permissions=[], actor=SYSTEM)),
        ("passkey.rename", "invalid_passkey_name", lambda: passkey_rename(passkey=passkey, display_name=long,
                                                                          actor=SYSTEM)),
        ("authenticationStrengthPolicy.create", "invalidProperty", lambda: strength_create(
            body={"displayName": long, "allowedCombinations": ["fido2"]}, actor=SYSTEM)),
        ("user.add", "invalid_display_name", lambda: user_create(upn="b@contoso.com", display_name="B\ud800",
                                                                 actor=SYSTEM)),
    ]
    for activity, reason, attempt in attempts:
        with pytest.raises(InvalidInput) as refused:
            attempt()
        assert refused.value.code == reason, activity
        assert AuditEvent.objects.filter(activity=activity, result="failure", reason=reason).exists(), activity
    assert not SignInEvent.objects.exists()


def test_a_group_description_is_cut_to_its_column(make_user: Any) -> None:
    from passgate.directory.services import group_create

    group = group_create(display_name="Pilot", description="d" * 5000, actor=SYSTEM)
    group.refresh_from_db()
    assert len(group.description) == 1024


def test_every_audited_refusal_of_an_id_fits_on_postgresql() -> None:
    """The review's case, at the service level: an over-long id reaches the refusal's audit row."""
    from passgate.access.services import ca_policy_delete, strength_update
    from passgate.core.errors import NotFound

    for attempt in (lambda: ca_policy_delete(policy_id="p" * 65, actor=SYSTEM),
                    lambda: strength_update(strength_id=str(uuid.uuid4()) + "x" * 100, body={}, actor=SYSTEM)):
        with pytest.raises(NotFound):
            attempt()
    assert [len(r.target_id) for r in AuditEvent.objects.filter(result="failure")] == [64, 64]


def test_an_app_with_the_longest_name_can_act_everywhere_it_is_named(client: Any) -> None:
    """An app acts as "app:<its name>": 260 characters for a 256-character name, more than the columns that
    record who acted (the policy version, a pass's creator): those writes answered 500 on PostgreSQL."""
    from django.test import Client

    from passgate.apps.services import app_create, token_issue
    from passgate.credentials.models import PolicyVersion, TemporaryAccessPass
    from passgate.directory.services import user_create

    app, secret = app_create(display_name="N" * 256, actor=SYSTEM, permissions=[
        "Policy.ReadWrite.AuthenticationMethod", "UserAuthenticationMethod.ReadWrite.All"])
    token = token_issue(client_id=str(app.app_id), client_secret=secret,
                        scope="https://graph.microsoft.com/.default").access_token
    user = user_create(upn="pat@contoso.com", display_name="Pat", actor=SYSTEM)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)
    fido2 = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
    assert api.patch(fido2, data='{"state": "disabled"}', content_type="application/json").status_code == 204
    tap = api.post(f"/v1.0/users/{user.pk}/authentication/temporaryAccessPassMethods", data="{}",
                   content_type="application/json")
    assert tap.status_code == 201, tap.content
    for name in (PolicyVersion.objects.get().actor_name, TemporaryAccessPass.objects.get().created_by):
        assert name.startswith("app:NNN") and len(name) == 256


def test_every_column_that_names_an_actor_holds_the_longest_actor_name() -> None:
    from passgate.apps.models import AppRegistration
    from passgate.credentials.models import PolicyVersion, TemporaryAccessPass
    from passgate.trust_store.models import MetadataBlob

    longest = len(Actor(id=None, name="n" * 10_000).name)
    assert longest == AuditEvent._meta.get_field("actor_name").max_length
    for model, column in ((PolicyVersion, "actor_name"), (TemporaryAccessPass, "created_by"),
                          (AppRegistration, "created_by"), (MetadataBlob, "imported_by")):
        assert model._meta.get_field(column).max_length >= longest, (model, column)
