"""Discovery (oidcc-discovery-endpoint-verification, oidcc-discovery-issuer-not-matching-config), the JWKS, signing
key rotation (a retired key stays published until its tokens have expired, then drops out), ID token signatures
(oidcc-idtoken-signature, oidcc-idtoken-unsigned: never alg none) with ES256 by default and RS256 on request."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from passgate.apps import keys
from passgate.apps.models import SigningKey
from passgate.audit.services import Actor
from tests.oidc.conftest import ISSUER, RelyingParty, audit, b64url_json, verify_id_token

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("test")


def test_oidcc_discovery_endpoint_verification(db: Any) -> None:
    response = Client().get("/.well-known/openid-configuration")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    doc = response.json()
    assert doc["issuer"] == ISSUER
    for name, path in (("authorization_endpoint", "authorize"), ("token_endpoint", "token"),
                       ("userinfo_endpoint", "userinfo"), ("jwks_uri", "jwks"), ("end_session_endpoint", "logout")):
        assert doc[name] == f"{ISSUER}/oidc/{path}"
    assert doc["response_types_supported"] == ["code"]
    assert doc["grant_types_supported"] == ["authorization_code", "refresh_token",
                                            "urn:ietf:params:oauth:grant-type:device_code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["id_token_signing_alg_values_supported"] == ["ES256", "RS256"]
    assert doc["scopes_supported"] == ["openid", "profile", "email", "offline_access"]
    assert doc["acr_values_supported"] == [f"00000000-0000-0000-0000-00000000000{n}" for n in (2, 3, 4)]
    assert doc["prompt_values_supported"] == ["none", "login"]
    assert doc["request_parameter_supported"] is False and doc["request_uri_parameter_supported"] is False
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post",
                                                                "private_key_jwt", "none"}
    assert {"sub", "iss", "acr", "amr", "auth_time", "email", "name"} <= set(doc["claims_supported"])
    assert "none" not in doc["id_token_signing_alg_values_supported"]


def test_oidcc_discovery_issuer_not_matching_config(rp: RelyingParty) -> None:
    """The issuer in discovery is exactly the iss of the ID token (and of the authorization response)."""
    issuer = Client().get("/.well-known/openid-configuration").json()["issuer"]
    claims = verify_id_token(rp.tokens()["id_token"], audience=rp.client_id)
    assert claims["iss"] == issuer


def test_jwks_publishes_public_keys_of_both_algorithms(db: Any) -> None:
    response = Client().get("/oidc/jwks")
    assert response.status_code == 200 and "max-age" in response["Cache-Control"]
    published = response.json()["keys"]
    assert sorted(k["alg"] for k in published) == ["ES256", "RS256"]
    for key in published:
        assert key["use"] == "sig" and key["kid"]
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)  # private parts never leave the server
    assert {k["kid"] for k in published} == set(SigningKey.objects.values_list("kid", flat=True))


def test_oidcc_idtoken_signature(rp: RelyingParty) -> None:
    token = rp.tokens()["id_token"]
    header = b64url_json(token, 0)
    assert header["alg"] == "ES256" and header["typ"] == "JWT"
    assert header["kid"] == keys.signing_key_current("ES256")[0]
    verify_id_token(token, audience=rp.client_id)


def test_oidcc_idtoken_unsigned(rp: RelyingParty) -> None:
    """The module registers a client for alg none; Passgate never signs with none (only ES256 or RS256 can be
    registered) and never issues an unsigned ID token."""
    from passgate.apps.services import OidcRegistration, app_create
    from passgate.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        app_create(display_name="Unsigned", permissions=(), actor=ACTOR,
                   oidc=OidcRegistration(redirect_uris=("https://rp.example.org/callback",), id_token_alg="none"))
    header = b64url_json(rp.tokens()["id_token"], 0)
    assert header["alg"] == "ES256"


def test_rs256_id_tokens_when_the_client_registered_them(make_rp: Any, browser: Client) -> None:
    rp = make_rp(browser, id_token_alg="RS256")
    token = rp.tokens()["id_token"]
    assert b64url_json(token, 0)["alg"] == "RS256"
    verify_id_token(token, audience=rp.client_id)


def test_rotation_keeps_the_old_key_published_until_its_tokens_expire(rp: RelyingParty, capsys: Any) -> None:
    before = rp.tokens()["id_token"]
    old_kid = b64url_json(before, 0)["kid"]
    row = keys.signing_key_rotate(alg="ES256", actor=ACTOR)
    assert row.kid != old_kid and audit("signingKey.rotate")[0].details["retired"] == [old_kid]
    after = rp.tokens()["id_token"]
    assert b64url_json(after, 0)["kid"] == row.kid
    verify_id_token(before, audience=rp.client_id)  # still verifiable: the retired key is still published
    verify_id_token(after, audience=rp.client_id)
    SigningKey.objects.filter(kid=old_kid).update(retired_at=timezone.now() - timedelta(minutes=59))
    assert old_kid in {k["kid"] for k in Client().get("/oidc/jwks").json()["keys"]}
    SigningKey.objects.filter(kid=old_kid).update(retired_at=timezone.now() - timedelta(minutes=62))
    published = {k["kid"] for k in Client().get("/oidc/jwks").json()["keys"]}
    assert old_kid not in published and row.kid in published
    listed = {info.kid: info for info in keys.signing_key_list()}
    assert listed[old_kid].published is False and listed[row.kid].published is True
    # a retired key's ID token still works as an id_token_hint (any age)
    assert "id_token" in rp.tokens(prompt="none", id_token_hint=before)


def test_rotating_rs256_leaves_es256_alone(db: Any) -> None:
    es_kid, _ = keys.signing_key_current("ES256")
    keys.signing_key_current("RS256")
    keys.signing_key_rotate(alg="RS256", actor=ACTOR)
    assert keys.signing_key_current("ES256")[0] == es_kid
    assert SigningKey.objects.filter(alg="RS256", retired_at__isnull=True).count() == 1


def test_keys_are_parsed_once_per_process(db: Any, monkeypatch: Any) -> None:
    kid, key = keys.signing_key_current("ES256")
    calls = []
    real = keys.serialization.load_pem_private_key
    monkeypatch.setattr(keys.serialization, "load_pem_private_key",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    for _ in range(5):
        assert keys.signing_key_current("ES256") == (kid, key)
    assert calls == []
    keys._loaded.clear()
    keys.signing_key_current("ES256")
    assert calls == [1]


def test_an_unknown_algorithm_is_refused(db: Any) -> None:
    from passgate.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        keys.signing_key_rotate(alg="HS256", actor=ACTOR)
    assert not SigningKey.objects.exists()


def test_keys_another_secret_key_made_are_not_replaced_by_keys_of_this_process(db: Any, settings: Any) -> None:
    """A node with another PASSGATE_SECRET_KEY than the node that made the current keys: it makes none of its own
    (nobody else could use them), says why, and rotation (the remedy when the key was changed on purpose) works."""
    made = {alg: keys.signing_key_current(alg)[0] for alg in keys.ALGORITHMS}
    keys._loaded.clear()  # another process: nothing decrypted yet
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    for alg in keys.ALGORITHMS:
        with pytest.raises(keys.SigningKeyUnusable, match=f"PASSGATE_SECRET_KEY.*passgate keys rotate --alg {alg}"):
            keys.signing_key_current(alg)
        assert not keys.signing_key_usable(alg)
    problems = keys.signing_keys_ensure()
    assert [p.split(" token-signing key")[0] for p in problems] == ["the current ES256", "the current RS256"]
    assert sorted(SigningKey.objects.values_list("kid", flat=True)) == sorted(made.values())
    rotated = keys.signing_key_rotate(alg="ES256", actor=ACTOR)
    assert keys.signing_key_current("ES256")[0] == rotated.kid and keys.signing_keys_ensure() == [problems[1]]
