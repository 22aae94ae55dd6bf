"""Registering OpenID Connect clients: the redirect URI rules (RFC 9700 §2.1, §2.6), client types and token
endpoint authentication, the JWKS of private_key_jwt clients, and the CLI (``apps add/list/show``, ``keys``).
Bad input: one clear line, nothing changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from django.conf import settings
from joserfc.jwk import ECKey, OKPKey, RSAKey

from passgate.apps.models import AppRegistration, SigningKey
from passgate.apps.services import OidcRegistration, app_create
from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.cli import main
from passgate.core import oidc as rules
from passgate.core.errors import InvalidInput
from tests.core.softauthn import weak_rsa_key

ACTOR = Actor.system("test")


@pytest.mark.parametrize("uri", [
    "https://rp.example.org/callback", "https://rp.example.org:8443/cb?tenant=1", "http://localhost:3000/cb",
    "http://127.0.0.1:8080/callback", "http://[::1]:9000/cb", "http://localhost/cb",
])
def test_valid_redirect_uris(uri: str) -> None:
    assert rules.validate_redirect_uri(uri) == uri


@pytest.mark.parametrize(("uri", "why"), [
    ("http://rp.example.org/callback", "uses http"),
    ("https://rp.example.org/cb#frag", "fragment"),
    ("https://rp.example.org/cb#", "fragment"),
    ("rp.example.org/cb", "absolute"),
    ("/callback", "absolute"),
    ("javascript:alert(1)", "absolute"),
    ("com.example.app:/oauth2redirect", "absolute"),
    ("https://user:pw@rp.example.org/cb", "user name"),
    ("https://*.example.org/cb", "wildcard"),
    ("https://rp.example.org/c b", "spaces"),
    ("https://rp.example.org/cé", "non-ASCII"),
    ("https://rp.example.org:99999/cb", "not a valid URI"),
    ("https://" + "a" * 2000 + ".org/", "longer than"),
    ("", "absolute"),
    ("http://localhost.evil.example/cb", "uses http"),
])
def test_invalid_redirect_uris(uri: str, why: str) -> None:
    with pytest.raises(InvalidInput) as info:
        rules.validate_redirect_uri(uri)
    assert why in info.value.message and info.value.code == "invalid_redirect_uri"


@pytest.mark.django_db
def test_a_confidential_client(db: Any) -> None:
    app, secret = app_create(display_name="Wiki", permissions=(), actor=ACTOR,
                             oidc=OidcRegistration(redirect_uris=("https://wiki.example.org/cb",) * 2))
    assert secret and app.has_secret and app.is_oidc_client
    assert app.redirect_uris == ["https://wiki.example.org/cb"] and app.client_type == "confidential"
    assert app.token_endpoint_auth_method == "client_secret_basic"
    assert app.allowed_scopes == ["openid", "profile", "email", "offline_access"]
    assert app.id_token_signed_response_alg == "ES256"
    row = AuditEvent.objects.get(activity="app.add")
    assert row.details["redirectUris"] == app.redirect_uris and secret not in json.dumps(row.details)


@pytest.mark.django_db
@pytest.mark.parametrize(("oidc", "permissions", "code"), [
    ({"redirect_uris": ("http://rp.example.org/cb",)}, (), "invalid_redirect_uri"),
    ({"public": True}, (), "redirect_uri_required"),
    ({"redirect_uris": ("https://a.example/cb",), "public": True}, ("User.Read.All",), "public_client_permissions"),
    ({"redirect_uris": ("https://a.example/cb",), "public": True, "auth_method": "client_secret_basic"}, (),
     "invalid_auth_method"),
    ({"redirect_uris": ("https://a.example/cb",), "auth_method": "none"}, (), "invalid_auth_method"),
    ({"redirect_uris": ("https://a.example/cb",), "auth_method": "tls_client_auth"}, (), "invalid_auth_method"),
    ({"redirect_uris": ("https://a.example/cb",), "auth_method": "private_key_jwt"}, (), "invalid_jwks"),
    ({"redirect_uris": ("https://a.example/cb",), "jwks": {"keys": []}}, (), "invalid_jwks"),
    ({"redirect_uris": ("https://a.example/cb",), "scopes": ("profile",)}, (), "unknown_scope"),
    ({"redirect_uris": ("https://a.example/cb",), "scopes": ("openid", "phone")}, (), "unknown_scope"),
    ({"redirect_uris": ("https://a.example/cb",), "id_token_alg": "HS256"}, (), "unknown_algorithm"),
    ({"redirect_uris": ("https://a.example/cb",), "post_logout_redirect_uris": ("http://x.example/",)}, (),
     "invalid_redirect_uri"),
])
def test_bad_registrations_change_nothing(oidc: dict[str, Any], permissions: tuple[str, ...], code: str) -> None:
    with pytest.raises(InvalidInput) as info:
        app_create(display_name="Bad", permissions=permissions, actor=ACTOR, oidc=OidcRegistration(**oidc))
    assert info.value.code == code
    assert not AppRegistration.objects.exists()
    assert [r.reason for r in AuditEvent.objects.filter(activity="app.add")] == [code]  # the refusal, audited


def public_jwk() -> dict[str, Any]:
    key = ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))
    return {**key.as_dict(private=False), "kid": key.thumbprint()}


@pytest.mark.django_db
@pytest.mark.parametrize("jwks", [
    {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]},
    {"keys": [{**public_jwk(), "d": "private"}]},
    {"keys": [{**public_jwk(), "use": "enc"}]},
    {"keys": [{"kty": "EC", "crv": "P-256", "x": "bad"}]},
    {"keys": [public_jwk()] * 11},
    {"keys": "nope"},
    [public_jwk()],
    {"keys": [RSAKey.import_key(weak_rsa_key(1024).private_key.public_key()).as_dict()]},  # under 2048 bits
    {"keys": [OKPKey.import_key(x25519.X25519PrivateKey.generate().public_key()).as_dict()]},  # not for signing
], ids=["symmetric", "private", "enc", "bad EC", "eleven", "not a list", "not an object", "RSA-1024", "X25519"])
def test_bad_jwks(jwks: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        app_create(display_name="Bad", permissions=(), actor=ACTOR, oidc=OidcRegistration(
            redirect_uris=("https://a.example/cb",), auth_method="private_key_jwt", jwks=jwks))
    assert info.value.code == "invalid_jwks"
    assert not AppRegistration.objects.exists()


@pytest.mark.django_db
def test_who_gets_a_secret(db: Any) -> None:
    jwks = {"keys": [public_jwk()]}
    cb = ("https://a.example/cb",)
    public, secret = app_create(display_name="SPA", permissions=(), actor=ACTOR,
                                oidc=OidcRegistration(redirect_uris=cb, public=True))
    assert secret is None and not public.has_secret and public.token_endpoint_auth_method == "none"
    keyed, secret = app_create(display_name="Keyed", permissions=(), actor=ACTOR,
                               oidc=OidcRegistration(redirect_uris=cb, auth_method="private_key_jwt", jwks=jwks))
    assert secret is None and keyed.jwks == jwks
    both, secret = app_create(display_name="Both", permissions=("User.Read.All",), actor=ACTOR,
                              oidc=OidcRegistration(redirect_uris=cb, auth_method="private_key_jwt", jwks=jwks))
    assert secret and both.has_secret  # for the Graph client-credentials endpoint


# --- the CLI ------------------------------------------------------------------------------------------------



@pytest.mark.django_db(transaction=True)
def test_cli_apps_add_an_openid_client(cli: Any, tmp_path: Path) -> None:
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [public_jwk()]}))
    code, out, err = cli("apps", "add", "--name", "Wiki", "--redirect-uri", "https://wiki.example.org/cb",
                         "--redirect-uri", "http://localhost:8080/cb", "--post-logout-redirect-uri",
                         "https://wiki.example.org/bye", "--auth-method", "private_key_jwt", "--jwks", str(jwks_file),
                         "--id-token-alg", "RS256", "--scope", "openid", "--scope", "email", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    app = AppRegistration.objects.get()
    assert data["appId"] == str(app.app_id) and data["clientSecret"] is None and data["passwordCredentials"] == []
    assert data["openIdConnect"] == {
        "clientType": "confidential", "redirectUris": ["https://wiki.example.org/cb", "http://localhost:8080/cb"],
        "postLogoutRedirectUris": ["https://wiki.example.org/bye"], "tokenEndpointAuthMethod": "private_key_jwt",
        "scopes": ["openid", "email"], "idTokenSignedResponseAlg": "RS256", "jwks": app.jwks, "requirePkce": False,
        "allowDeviceCode": False, "discovery": f"{settings.PASSGATE.origin}/.well-known/openid-configuration",
    }
    code, out, _ = cli("apps", "show", str(app.app_id), "--json")
    assert json.loads(out)["openIdConnect"]["redirectUris"] == app.redirect_uris
    code, out, _ = cli("apps", "list", "--json")
    assert json.loads(out)[0]["openIdConnect"]["tokenEndpointAuthMethod"] == "private_key_jwt"
    _, out, _ = cli("apps", "list")
    assert "OpenID Connect (confidential)" in out
    _, out, _ = cli("apps", "show", str(app.app_id))
    assert "Redirect URI:             https://wiki.example.org/cb" in out


@pytest.mark.django_db(transaction=True)
def test_cli_apps_add_and_update_the_device_code_grant(cli: Any) -> None:
    code, out, err = cli("apps", "add", "--name", "Deploy CLI", "--redirect-uri", "http://127.0.0.1:8765/cb",
                         "--public", "--allow-device-code", "--json")
    assert (code, err) == (0, "") and json.loads(out)["openIdConnect"]["allowDeviceCode"] is True
    app = AppRegistration.objects.get()
    code, out, err = cli("apps", "update", str(app.app_id), "--no-allow-device-code")
    assert (code, err) == (0, "") and "Device code grant:        not allowed" in out
    app.refresh_from_db()
    assert not app.allow_device_code and app.client_type == "public" and app.require_pkce
    change = AuditEvent.objects.filter(activity="app.update").get()
    assert change.details == {"old": {"allowDeviceCode": True}, "new": {"allowDeviceCode": False}}
    graph_only, _ = app_create(display_name="Graph", permissions=("User.Read.All",), actor=ACTOR)
    code, _, err = cli("apps", "update", str(graph_only.app_id), "--allow-device-code")
    assert code != 0 and "redirect URI" in err


def test_an_update_keeps_the_back_channel_logout_uri(db: Any) -> None:
    """registration_of carries every setting, so changing one keeps the others (it used to drop this one)."""
    import dataclasses

    from passgate.apps.services import app_update, registration_of

    app, _ = app_create(display_name="Wiki", permissions=(), actor=ACTOR, oidc=OidcRegistration(
        redirect_uris=("https://wiki.example.org/cb",), backchannel_logout_uri="https://wiki.example.org/bcl"))
    app = app_update(app=app, actor=ACTOR, oidc=dataclasses.replace(registration_of(app), allow_device_code=True))
    assert app.allow_device_code and app.backchannel_logout_uri == "https://wiki.example.org/bcl"


@pytest.mark.django_db(transaction=True)
def test_cli_apps_add_a_public_client_prints_no_secret(cli: Any) -> None:
    code, out, _ = cli("apps", "add", "--name", "SPA", "--redirect-uri", "http://localhost:5173/cb", "--public")
    assert code == 0 and "Client secret" not in out and "public client" in out


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("argv", "fragment"), [
    (("--redirect-uri", "http://wiki.example.org/cb"), "uses http"),
    (("--redirect-uri", "https://wiki.example.org/cb#x"), "fragment"),
    (("--redirect-uri", "https://a.example/cb", "--public", "--auth-method", "client_secret_post"), "public client"),
    (("--redirect-uri", "https://a.example/cb", "--auth-method", "private_key_jwt"), "JWKS"),
    (("--redirect-uri", "https://a.example/cb", "--jwks", "/nonexistent/jwks.json"), "JWKS file"),
    (("--redirect-uri", "https://a.example/cb", "--scope", "phone"), "Unknown scope"),
])
def test_cli_bad_input_is_one_line_and_changes_nothing(cli: Any, argv: tuple[str, ...], fragment: str) -> None:
    code, out, err = cli("apps", "add", "--name", "Bad", *argv)
    assert code != 0 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("passgate: error: ") and fragment in err
    assert not AppRegistration.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_cli_bad_jwks_json(cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "jwks.json"
    bad.write_text("{not json")
    code, out, err = cli("apps", "add", "--name", "Bad", "--redirect-uri", "https://a.example/cb",
                         "--auth-method", "private_key_jwt", "--jwks", str(bad))
    assert code == 1 and out == "" and "is not JSON" in err and len(err.splitlines()) == 1
    assert not AppRegistration.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_cli_usage_errors(cli: Any, capsys: Any) -> None:
    for argv in (["apps", "add", "--name", "X"], ["apps", "add", "--name", "X", "--public"],
                 ["apps", "add", "--name", "X", "--auth-method", "magic"],
                 ["keys", "rotate", "--alg", "HS256"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        assert len(capsys.readouterr().err.splitlines()) == 1


@pytest.mark.django_db(transaction=True)
def test_cli_keys_rotate_and_list(cli: Any) -> None:
    code, out, _ = cli("keys", "list")
    assert code == 0 and "no signing keys yet" in out
    code, out, _ = cli("keys", "rotate", "--json")
    first = json.loads(out)
    assert code == 0 and first["alg"] == "ES256"
    code, out, _ = cli("keys", "rotate", "--alg", "RS256")
    assert code == 0 and "New current RS256 signing key" in out
    code, out, _ = cli("keys", "rotate")
    listed = json.loads(cli("keys", "list", "--json")[1])
    assert [(k["alg"], k["current"], k["published"]) for k in listed] == [
        ("ES256", False, True), ("RS256", True, True), ("ES256", True, True)]
    assert listed[0]["kid"] == first["kid"] and listed[0]["retiredDateTime"]
    assert SigningKey.objects.count() == 3
    assert all("PRIVATE" not in json.dumps(k) for k in listed)
