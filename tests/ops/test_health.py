"""/healthz and /readyz: answered without a session, CSRF or Host check; ready names each check, not ready names
the failing ones (database migrated, token-signing keys usable, FIDO metadata fresh where the policy needs it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from passgate.apps.keys import signing_keys_ensure
from passgate.apps.models import SigningKey
from passgate.audit.services import Actor
from passgate.credentials.policy import policy_update
from passgate.trust_store.models import MetadataBlob

pytestmark = pytest.mark.django_db

ADMIN = Actor.system("health test")


@pytest.fixture
def keys(db: Any) -> None:
    signing_keys_ensure()


def _blob(next_update_days: int) -> MetadataBlob:
    return MetadataBlob.objects.create(no=1, next_update=timezone.now().date() + timedelta(days=next_update_days),
                                       sha256="0" * 64, blob=b"x", entries=0, imported_at=timezone.now(),
                                       imported_by="test", source="test")


def _require_metadata() -> None:
    policy_update(body={"@passgate.refuseFlaggedModelsAtSignIn": True}, method_id="Fido2", actor=ADMIN)


def test_healthz_says_ok_without_touching_the_database(client: Any, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        answer = client.get("/healthz")
    assert (answer.status_code, answer.content, answer["Content-Type"]) == (200, b"ok", "text/plain")
    assert not answer.cookies


def test_ready_on_a_migrated_database(client: Any, keys: None) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "failing": [],
                             "checks": {"database": "ok", "signing_keys": "ok", "mds": "not configured"}}
    assert not answer.cookies and answer["Cache-Control"] == "no-store"


def test_probes_answer_whatever_host_names_the_node_and_set_no_cookie(client: Any, keys: None) -> None:
    for path in ("/healthz", "/readyz"):
        answer = client.get(path, HTTP_HOST="10.1.2.3:8000", HTTP_COOKIE="passgate_session=forged")
        assert answer.status_code == 200, (path, answer.content)
        assert not answer.cookies
    assert client.head("/readyz").status_code == 200
    refused = client.post("/readyz")
    assert refused.status_code == 405 and refused["Allow"] == "GET, HEAD"


def test_an_unapplied_migration_makes_it_not_ready_naming_the_database(client: Any, keys: None) -> None:
    with connection.cursor() as cursor:  # as if the newest migration of an app had not run (rolled back after)
        cursor.execute("DELETE FROM django_migrations WHERE app = 'audit' AND name = "
                       "(SELECT MAX(name) FROM django_migrations WHERE app = 'audit')")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable" and body["failing"] == ["database"]
    assert "unapplied migration" in body["checks"]["database"] and "audit." in body["checks"]["database"]


def test_missing_or_unusable_signing_keys_make_it_not_ready(client: Any, keys: None,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("passgate.apps.keys._loaded", {})  # a new process: nothing decrypted yet
    SigningKey.objects.filter(alg="RS256").update(private_key_pem="-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n"
                                                                  "-----END ENCRYPTED PRIVATE KEY-----\n")
    SigningKey.objects.filter(alg="ES256").delete()
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["failing"] == ["signing_keys"]
    detail = answer.json()["checks"]["signing_keys"]
    assert "ES256 or RS256" in detail and "BEGIN" not in detail


def test_stale_metadata_where_the_policy_needs_it_is_not_ready(client: Any, keys: None, settings: Any) -> None:
    _blob(next_update_days=-(settings.PASSGATE.mds_grace_days + 1))
    stale = client.get("/readyz")
    assert stale.status_code == 200  # imported but not needed: reported, still ready
    assert stale.json()["checks"]["mds"].startswith("stale") and stale.json()["failing"] == []
    _require_metadata()
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["failing"] == ["mds"]
    assert "passgate mds refresh" in answer.json()["checks"]["mds"]


def test_metadata_within_its_grace_days_is_fresh(client: Any, keys: None, settings: Any) -> None:
    _require_metadata()
    _blob(next_update_days=-settings.PASSGATE.mds_grace_days)
    answer = client.get("/readyz")
    assert answer.status_code == 200 and answer.json()["checks"]["mds"] == "ok"


def test_metadata_needed_but_never_imported_is_not_ready(client: Any, keys: None) -> None:
    _require_metadata()
    answer = client.get("/readyz")
    assert answer.status_code == 503 and answer.json()["failing"] == ["mds"]
