"""The overview page and the audit log: filters (category, result, activity, actor, target, dates), paging,
bad filters answered 400."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor, Target, audit_failure, audit_record
from tests.admin.conftest import APA, GA, GR, text_of

pytestmark = pytest.mark.django_db


def rows(response: Any) -> int:
    return response.content.count(b"<tr class=")


@pytest.fixture
def log(world: Any) -> None:
    """A few rows on top of the ones the world's set-up wrote, one of them three days old."""
    audit_failure(category="signIn", activity="passkey.signIn", reason="unknown_credential",
                  actor=Actor(id=None, name="mallory@contoso.com"))
    audit_record(category="directory", activity="user.disable", actor=Actor(id=None, name="root@contoso.com"),
                 target=Target(type="user", id=str(world["sam"].pk), name="sam@contoso.com"))
    old = audit_record(category="policy", activity="authenticationMethodsPolicy.update",
                       actor=Actor(id=None, name="root@contoso.com"))
    AuditEvent.objects.filter(pk=old.pk).update(occurred_at=timezone.now() - timedelta(days=3))


def test_the_overview_counts(world: Any, admin_as: Any, log: Any) -> None:
    client, _ = admin_as(GR)
    page = text_of(client.get("/admin"))
    assert "3 users all enabled" in page
    assert "1 passkey 1 of 3 users has one" in page and "1 group" in page and "1 failure" in page
    client, _ = admin_as(APA)
    page = client.get("/admin").content
    assert b'id="count-users"' in page and b'id="count-passkeys"' not in page  # no methods.read
    assert b"Audit log" not in page


def test_filters(world: Any, admin_as: Any, log: Any) -> None:
    client, _ = admin_as(GA)
    total = AuditEvent.objects.count()
    assert rows(client.get("/admin/audit")) == total
    failures = client.get("/admin/audit?result=failure")
    assert rows(failures) == 1 and "unknown_credential" in text_of(failures)
    assert rows(client.get("/admin/audit?category=policy")) == 1
    assert rows(client.get("/admin/audit?activity=DISABLE")) == 1
    assert rows(client.get("/admin/audit?actor=root@")) == 2
    by_target = client.get("/admin/audit?target=sam@contoso")  # added (by the set-up), then disabled
    assert rows(by_target) == 2 and f'href="/admin/users/{world["sam"].pk}"' in by_target.content.decode()
    today = timezone.now().date()
    assert rows(client.get(f"/admin/audit?from={today}&to={today}")) == total - 1
    three_days_ago = today - timedelta(days=3)
    assert rows(client.get(f"/admin/audit?from={three_days_ago}&to={three_days_ago}")) == 1
    assert rows(client.get("/admin/audit?category=signIn&result=success")) == 0
    assert "No audit entries match these filters." in text_of(client.get("/admin/audit?activity=nothing-like-it"))


def test_details_are_shown_folded(world: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    audit_record(category="directory", activity="user.setUpn", details={"userPrincipalName": {"old": "a@b.c",
                                                                                              "new": "d@e.f"}})
    page = client.get("/admin/audit?activity=setUpn").content.decode()
    assert "<details" in page and "&quot;new&quot;: &quot;d@e.f&quot;" in page


@pytest.mark.parametrize(("query", "message"), [
    ("from=yesterday", "“yesterday” isn't a date; use the form 2026-01-31."),
    ("to=2026-02-30", "“2026-02-30” isn't a date"),
    ("from=2026-03-02&to=2026-03-01", "The end date is before the start date."),
    ("category=everything", "“everything” isn't a category."),
    ("result=maybe", "“maybe” isn't a result; choose success or failure."),
])
def test_bad_filters_answer_400(query: str, message: str, admin_as: Any) -> None:
    client, _ = admin_as(GR)
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 400 and message in text_of(response)
    assert rows(response) == 0


def test_paging_keeps_the_filters(admin_as: Any) -> None:
    client, _ = admin_as(GR)
    for n in range(120):
        audit_record(category="system", activity=f"test.event{n}")
    first = client.get("/admin/audit?category=system")
    assert rows(first) == 50 and "1\u201350 of 120" in text_of(first)
    assert b"category=system&amp;page=2" in first.content
    last = client.get("/admin/audit?category=system&page=3")
    assert rows(last) == 20 and "test.event0" in text_of(last) and "test.event119" not in text_of(last)
