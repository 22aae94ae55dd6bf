"""/metrics: Prometheus exposition behind a Bearer token (404 without one configured, 401 for a wrong or missing
one, never logged); each counter moves once per event, where the event is audited."""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY

from passgate.apps.services import app_create
from passgate.audit.models import Category
from passgate.audit.services import Actor, audit_failure
from passgate.trust_store.models import MetadataBlob
from tests.oidc.conftest import RelyingParty, passkey_sign_in
from tests.services.support import authenticator_for, register

# Real commits: the counters move when an audit row's transaction commits (on_commit), as in production.
pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "m" * 20 + "-metrics-token-value-42"
ACTOR = Actor.system("metrics test")


@pytest.fixture
def metrics_token(settings: Any) -> str:
    from dataclasses import replace

    settings.PASSGATE = replace(settings.PASSGATE, metrics_token=TOKEN)
    return TOKEN


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """The change of some samples over a block."""

    def __init__(self, *samples: tuple[str, dict[str, str]]) -> None:
        self.samples = samples
        self.before = [value(n, **ls) for n, ls in samples]

    def __call__(self) -> list[float]:
        return [value(n, **ls) - b for (n, ls), b in zip(self.samples, self.before, strict=True)]


def test_without_a_configured_token_there_is_no_metrics_endpoint(client: Client) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything-at-all").status_code == 404


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x",
                                           f"Bearer {TOKEN[:-1]}"])
def test_a_missing_or_wrong_token_is_refused_and_logged_without_it(client: Client, metrics_token: str,
                                                                  caplog: pytest.LogCaptureFixture,
                                                                  authorization: str | None) -> None:
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    with caplog.at_level(logging.WARNING, logger="passgate"):
        answer = client.get("/metrics", **headers)
    assert answer.status_code == 401 and answer["WWW-Authenticate"].startswith("Bearer")
    assert b"passgate_" not in answer.content and not answer.cookies
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("passgate")]
    assert len(logged) == 1 and "refused a scrape from 127.0.0.1" in logged[0]
    assert "metrics-token" not in caplog.text and "wrong" not in caplog.text.replace("a wrong token", "")


def test_the_right_token_gets_the_exposition(client: Client, metrics_token: str) -> None:
    MetadataBlob.objects.create(no=1, next_update=timezone.now().date(), sha256="0" * 64, blob=b"x", entries=0,
                                imported_at=timezone.now() - timezone.timedelta(hours=2), imported_by="t", source="t")
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", HTTP_HOST="10.0.0.7:8000")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/plain; version=")
    assert not answer.cookies
    text = answer.content.decode()
    for name in ("passgate_signins_total", "passgate_refusals_total", "passgate_device_signins_total",
                 "passgate_oauth_tokens_issued_total", "passgate_graph_requests_total",
                 "passgate_database_errors_total", "passgate_webauthn_verify_seconds", "passgate_mds_age_seconds"):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name
    age = float(re.search(r"^passgate_mds_age_seconds (\S+)$", text, re.M).group(1))  # type: ignore[union-attr]
    assert 7190 < age < 7300
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_a_passkey_sign_in_counts_once_with_its_verification_time(client: Client, make_user: Any) -> None:
    user = make_user(upn="pat@contoso.com")
    auth = authenticator_for(user, sign_count=1)
    register(user, auth)
    delta = Delta(("passgate_signins_total", {"method": "passkey", "result": "success"}),
                  ("passgate_signins_total", {"method": "passkey", "result": "failure"}),
                  ("passgate_webauthn_verify_seconds_count", {"ceremony": "assertion"}))
    passkey_sign_in(client, auth)
    assert delta() == [1, 0, 1]


def test_a_registration_is_timed(make_user: Any) -> None:
    delta = Delta(("passgate_webauthn_verify_seconds_count", {"ceremony": "registration"}))
    user = make_user(upn="sam@contoso.com")
    register(user, authenticator_for(user))
    assert delta() == [1]


def test_a_refused_pass_counts_a_failed_sign_in_and_a_refusal_with_its_reason(client: Client, make_user: Any,
                                                                             issue_tap: Any) -> None:
    user = make_user(upn="kim@contoso.com")
    issue_tap(user)
    delta = Delta(("passgate_signins_total", {"method": "tap", "result": "failure"}),
                  ("passgate_refusals_total", {"category": "signIn", "reason": "tap_invalid"}),
                  ("passgate_signins_total", {"method": "tap", "result": "success"}))
    client.post("/signin/tap", {"upn": user.user_principal_name, "tap": "WrongWrongWrong1"})
    assert delta() == [1, 1, 0]


def test_a_pass_sign_in_counts_a_success_and_no_refusal(client: Client, make_user: Any, issue_tap: Any) -> None:
    user = make_user(upn="lee@contoso.com")
    tap = issue_tap(user)
    refusals = sum(s.value for m in REGISTRY.collect() if m.name == "passgate_refusals" for s in m.samples
                   if s.name.endswith("_total"))
    delta = Delta(("passgate_signins_total", {"method": "tap", "result": "success"}))
    client.post("/signin/tap", {"upn": user.user_principal_name, "tap": tap})
    assert delta() == [1]
    after = sum(s.value for m in REGISTRY.collect() if m.name == "passgate_refusals" for s in m.samples
                if s.name.endswith("_total"))
    assert after == refusals


def test_tokens_issued_count_by_grant(rp: RelyingParty, client: Client) -> None:
    delta = Delta(("passgate_oauth_tokens_issued_total", {"grant": "authorization_code"}),
                  ("passgate_oauth_tokens_issued_total", {"grant": "client_credentials"}),
                  ("passgate_refusals_total", {"category": "signIn", "reason": "unknown_client"}))
    rp.tokens()
    app, secret = app_create(display_name="Script", permissions=("User.Read.All",), actor=ACTOR)
    form = {"grant_type": "client_credentials", "client_id": str(app.app_id), "client_secret": secret,
            "scope": "https://graph.microsoft.com/.default"}
    issued = client.post("/oauth2/v2.0/token", data=urlencode(form), content_type="application/x-www-form-urlencoded")
    assert issued.status_code == 200, issued.content
    refused = client.post("/oauth2/v2.0/token", data=urlencode({**form, "client_id": "0" * 8 + "-0000-0000-0000-"
                                                                + "0" * 12}),
                          content_type="application/x-www-form-urlencoded")
    assert refused.status_code in (400, 401)
    assert delta() == [1, 1, 1]


def test_graph_requests_count_by_status_class(client: Client) -> None:
    delta = Delta(("passgate_graph_requests_total", {"status_class": "4xx"}),
                  ("passgate_graph_requests_total", {"status_class": "2xx"}))
    assert client.get("/v1.0/users").status_code == 401
    assert client.get("/beta/nothing-here").status_code in (401, 404)
    client.get("/signin")  # a page: not a Graph request
    assert delta() == [2, 0]


def test_a_failing_statement_counts_a_database_error() -> None:
    delta = Delta(("passgate_database_errors_total", {"error": "OperationalError"}),
                  ("passgate_database_errors_total", {"error": "ProgrammingError"}))
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table_here")
    assert sum(delta()) == 1


def test_an_audit_row_rolled_back_counts_nothing_and_a_committed_one_once() -> None:
    delta = Delta(("passgate_refusals_total", {"category": "system", "reason": "test_reason"}))
    with contextlib.suppress(RuntimeError), transaction.atomic():
        audit_failure(category=Category.SYSTEM, activity="test.refuse", reason="test_reason")
        raise RuntimeError("rolled back")
    assert delta() == [0]
    with transaction.atomic():
        audit_failure(category=Category.SYSTEM, activity="test.refuse", reason="test_reason")
        assert delta() == [0]  # not before the commit
    assert delta() == [1]


def test_a_reason_that_is_not_a_code_is_counted_as_other() -> None:
    from passgate.audit.metrics import reason_label

    assert reason_label("tap_invalid") == "tap_invalid"
    assert reason_label("Some sentence, with spaces") == "other" and reason_label("") == "other"
