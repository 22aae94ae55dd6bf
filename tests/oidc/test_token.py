"""The token endpoint: code redemption (single use, bound, PKCE), refresh tokens (rotation, family revocation),
client authentication (secret basic/post, private_key_jwt, public clients), and RFC 6749 §5.2 errors for bad
input, each audited with a reason code and issuing nothing."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from passgate.apps.models import AppRegistration, AuthorizationCode, OidcGrant, OidcToken
from tests.core.softauthn import weak_rsa_key
from tests.oidc.conftest import ISSUER, RelyingParty, audit, basic, verify_id_token
from tests.services.support import sql_shape

pytestmark = pytest.mark.django_db
TOKEN_URL = f"{ISSUER}/oidc/token"


def oauth_error(response: Any, error: str, status: int = 400) -> dict[str, Any]:
    """RFC 6749 §5.2: JSON {error, error_description}, the status, and never cached."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store" and response["Pragma"] == "no-cache"
    body = response.json()
    assert body["error"] == error, body
    assert set(body) <= {"error", "error_description", "error_uri"}
    if error == "invalid_client":
        assert response["WWW-Authenticate"].startswith("Basic ")
    return dict(body)


def live_tokens() -> int:
    now = timezone.now()
    return OidcToken.objects.filter(revoked_at__isnull=True, grant__revoked_at__isnull=True,
                                    expires_at__gt=now).count()


# --- code redemption ----------------------------------------------------------------------------------------

def test_token_response_is_not_cached_and_tokens_are_stored_hashed(rp: RelyingParty) -> None:
    response = rp.redeem(rp.code())
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store" and response["Pragma"] == "no-cache"
    access = response.json()["access_token"]
    row = OidcToken.objects.get(kind="access")
    assert access.encode() not in bytes(row.token_sha256) and access.startswith("pgat_")
    assert row.expires_at - row.created_at == timedelta(hours=1)
    token_row = audit("oidc.token", result="success")[0]
    assert access not in str(token_row.details) and rp.secret not in str(token_row.details)


def test_oidcc_codereuse(rp: RelyingParty) -> None:
    """The second redemption of a code is invalid_grant, and every token issued from it is revoked
    (RFC 6749 §4.1.2), UserInfo included."""
    code = rp.code()
    first = rp.redeem(code).json()
    assert rp.userinfo(first["access_token"]).status_code == 200
    oauth_error(rp.redeem(code), "invalid_grant")
    assert rp.userinfo(first["access_token"]).status_code == 401
    assert OidcGrant.objects.get().revoked_reason == "code_replayed"
    assert audit("oidc.token", reason="code_replayed") and audit("oidc.grantRevoke")


def test_oidcc_codereuse_30seconds(rp: RelyingParty) -> None:
    """The same after 30 seconds (still within the 60-second code lifetime), including the refresh token."""
    code = rp.code(scope="openid offline_access")
    first = rp.redeem(code).json()
    AuthorizationCode.objects.update(created_at=timezone.now() - timedelta(seconds=30))
    oauth_error(rp.redeem(code), "invalid_grant")
    refreshed = rp.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    oauth_error(refreshed, "invalid_grant")
    assert live_tokens() == 0


def test_a_code_expires_after_60_seconds(rp: RelyingParty) -> None:
    code = rp.code()
    AuthorizationCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    oauth_error(rp.redeem(code), "invalid_grant")
    assert audit("oidc.token", reason="code_expired") and live_tokens() == 0


def test_concurrent_redemptions_issue_once(rp: RelyingParty) -> None:
    """The code is consumed by one conditional UPDATE: a second redemption after the first looked the code up but
    before it finished can't also win."""
    code = rp.code()
    AuthorizationCode.objects.update(used_at=timezone.now())  # another request consumed it a moment ago
    oauth_error(rp.redeem(code), "invalid_grant")
    assert OidcToken.objects.count() == 0


def test_redirect_uri_must_be_identical_at_the_token_endpoint(rp: RelyingParty) -> None:
    oauth_error(rp.redeem(rp.code(), redirect_uri="https://rp.example.org/callback/"), "invalid_grant")
    oauth_error(rp.redeem(rp.code(), redirect_uri=None), "invalid_grant")
    assert OidcToken.objects.count() == 0


def test_a_code_is_bound_to_its_client(rp: RelyingParty, make_rp: Any) -> None:
    other = make_rp(name="Other RP")
    code = rp.code()
    stolen = RelyingParty(app=other.app, secret=other.secret, browser=rp.browser, verifier=rp.verifier)
    oauth_error(stolen.redeem(code), "invalid_grant")
    assert audit("oidc.token", reason="code_unknown")
    assert rp.redeem(code).status_code == 200  # the rightful client can still use it


def test_pkce_verifier_is_checked(rp: RelyingParty) -> None:
    code = rp.code()
    oauth_error(rp.redeem(code, code_verifier="x" * 43), "invalid_grant")
    assert audit("oidc.token", reason="pkce_verifier_mismatch")
    assert OidcToken.objects.count() == 0
    oauth_error(rp.redeem(rp.code(), code_verifier=None), "invalid_request")
    assert audit("oidc.token", reason="pkce_verifier_missing")
    oauth_error(rp.redeem(rp.code(), code_verifier="short"), "invalid_request")
    assert OidcToken.objects.count() == 0


@pytest.mark.parametrize("code", ["", "nope", "x" * 9000])
def test_unknown_codes(rp: RelyingParty, code: str) -> None:
    response = rp.redeem(code)
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_grant", "invalid_request")


# --- refresh tokens -----------------------------------------------------------------------------------------

def test_refresh_tokens_only_with_offline_access(rp: RelyingParty) -> None:
    assert "refresh_token" not in rp.tokens(scope="openid profile")
    tokens = rp.tokens(scope="openid offline_access")
    assert tokens["refresh_token"].startswith("pgrt_") and tokens["scope"] == "openid offline_access"


def test_no_refresh_token_for_a_client_not_allowed_offline_access(make_rp: Any, browser: Client) -> None:
    rp = make_rp(browser, scopes=("openid", "profile"))
    tokens = rp.tokens(scope="openid offline_access")
    assert "refresh_token" not in tokens and tokens["scope"] == "openid"
    oauth_error(rp.token(grant_type="refresh_token", refresh_token="pgrt_x"), "unauthorized_client")


def test_oidcc_refresh_token(rp: RelyingParty, person: Any) -> None:
    """Refresh works, rotates the refresh token on every use, and the new access token reaches UserInfo with the
    same sub as the ID token."""
    tokens = rp.tokens(scope="openid profile offline_access")
    sub = verify_id_token(tokens["id_token"], audience=rp.client_id)["sub"]
    response = rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    fresh = response.json()
    assert fresh["refresh_token"] != tokens["refresh_token"] and fresh["access_token"] != tokens["access_token"]
    assert fresh["scope"] == "openid profile offline_access"
    assert rp.userinfo(fresh["access_token"]).json()["sub"] == sub == str(person[0].pk)
    again = rp.token(grant_type="refresh_token", refresh_token=fresh["refresh_token"])
    assert again.status_code == 200


def test_a_refresh_brings_a_new_id_token_for_the_same_sign_in(rp: RelyingParty, person: Any) -> None:
    """OIDC Core §12.2: the same iss, sub, aud, azp, auth_time, acr and amr; a new iat; at_hash of the new access
    token; no nonce. The app keeps a valid id_token_hint for logout."""
    tokens = rp.tokens(scope="openid profile offline_access")
    first = verify_id_token(tokens["id_token"], audience=rp.client_id)
    time.sleep(1.1)
    fresh = rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    renewed = verify_id_token(fresh["id_token"], audience=rp.client_id)
    for claim in ("iss", "sub", "aud", "azp", "auth_time", "sid", "acr", "amr"):
        assert renewed[claim] == first[claim], claim
    assert renewed["iat"] > first["iat"] and "nonce" in first and "nonce" not in renewed
    assert renewed["at_hash"] != first["at_hash"]
    logout = rp.browser.get("/oidc/logout?" + urlencode({"id_token_hint": fresh["id_token"]}))
    assert logout.status_code in (200, 302)  # the renewed token is accepted as a hint


def test_a_refresh_without_openid_in_scope_brings_no_id_token(rp: RelyingParty) -> None:
    tokens = rp.tokens(scope="openid profile offline_access")
    narrowed = rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"], scope="offline_access")
    assert narrowed.status_code == 200, narrowed.content
    assert "id_token" not in narrowed.json()


def test_reusing_a_rotated_refresh_token_revokes_the_family(rp: RelyingParty) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    fresh = rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).json()
    oauth_error(rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]), "invalid_grant")
    assert audit("oidc.token", reason="refresh_token_reused")
    oauth_error(rp.token(grant_type="refresh_token", refresh_token=fresh["refresh_token"]), "invalid_grant")
    assert rp.userinfo(fresh["access_token"]).status_code == 401
    assert rp.userinfo(tokens["access_token"]).status_code == 401
    assert live_tokens() == 0 and OidcGrant.objects.get().revoked_reason == "refresh_token_reused"


def test_a_refresh_token_is_bound_to_its_client(rp: RelyingParty, make_rp: Any) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    other = make_rp(name="Other RP")
    oauth_error(other.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]), "invalid_grant")
    assert audit("oidc.token", reason="refresh_token_other_client")
    assert rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]).status_code == 200


def test_refresh_may_narrow_the_scope_but_not_widen_it(rp: RelyingParty) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    oauth_error(rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"],
                         scope="openid offline_access email"), "invalid_scope")
    narrowed = rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"], scope="openid")
    assert narrowed.status_code == 200 and "refresh_token" not in narrowed.json()


def test_refresh_tokens_expire(rp: RelyingParty) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    OidcToken.objects.filter(kind="refresh").update(expires_at=timezone.now() - timedelta(seconds=1))
    oauth_error(rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]), "invalid_grant")
    assert audit("oidc.token", reason="refresh_token_expired")
    grant = OidcGrant.objects.get()
    assert grant.expires_at - grant.created_at == timedelta(days=90)  # the family's absolute limit


def test_refresh_after_the_account_is_disabled(rp: RelyingParty, person: Any) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    person[0].account_enabled = False
    person[0].save()
    oauth_error(rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"]), "invalid_grant")
    assert audit("oidc.token", reason="user_disabled")


def test_an_access_token_is_not_a_refresh_token(rp: RelyingParty) -> None:
    tokens = rp.tokens(scope="openid offline_access")
    oauth_error(rp.token(grant_type="refresh_token", refresh_token=tokens["access_token"]), "invalid_grant")


# --- client authentication ----------------------------------------------------------------------------------

def test_oidcc_server_client_secret_post(make_rp: Any, browser: Client) -> None:
    rp = make_rp(browser, auth_method="client_secret_post")
    response = rp.redeem(rp.code(), auth="post")
    assert response.status_code == 200
    assert rp.redeem(rp.code(), auth="basic").status_code == 200  # the same secret, the other way: accepted


def test_a_secret_client_may_send_its_secret_either_way_but_must_send_it(rp: RelyingParty) -> None:
    assert rp.redeem(rp.code(), auth="post").status_code == 200  # registered client_secret_basic
    oauth_error(rp.redeem(rp.code(), auth="none"), "invalid_client", 401)
    assert audit("oidc.token", reason="client_auth_missing")


def test_a_private_key_jwt_client_cannot_use_a_secret_instead(make_rp: Any, browser: Client) -> None:
    rp = make_rp(browser, auth_method="private_key_jwt", jwks={"keys": [ECKey.generate_key("P-256").as_dict(
        private=False)]}, permissions=("User.Read.All",))  # Graph permissions give it a secret too
    assert rp.secret
    oauth_error(rp.redeem(rp.code(), auth="basic"), "invalid_client", 401)
    assert audit("oidc.token", reason="client_auth_method_mismatch")


def test_wrong_secret_and_unknown_client(rp: RelyingParty) -> None:
    code = rp.code()
    wrong = RelyingParty(app=rp.app, secret="x" * 43, browser=rp.browser, verifier=rp.verifier)
    oauth_error(wrong.redeem(code), "invalid_client", 401)
    assert audit("oidc.token", reason="invalid_client_secret")
    unknown = rp.back_channel.post(
        "/oidc/token", content_type="application/x-www-form-urlencoded",
        data=urlencode({"grant_type": "authorization_code", "code": code}),
        HTTP_AUTHORIZATION=basic(str(uuid.uuid4()), "x"))
    oauth_error(unknown, "invalid_client", 401)
    assert audit("oidc.token", reason="unknown_client")
    assert rp.redeem(code).status_code == 200  # failed client authentication didn't burn the code


def test_confidential_client_without_credentials(rp: RelyingParty) -> None:
    oauth_error(rp.redeem(rp.code(), auth="none"), "invalid_client", 401)
    assert audit("oidc.token", reason="client_auth_missing")


def test_one_client_authentication_method_only(rp: RelyingParty) -> None:
    response = rp.redeem(rp.code(), client_secret=rp.secret)  # Basic header and client_secret in the body
    oauth_error(response, "invalid_request")
    assert audit("oidc.token", reason="multiple_client_auth")


@pytest.mark.parametrize("header", ["Bearer abc", "Basic !!!", "Basic " + "eA==", "Digest x"])
def test_malformed_authorization_headers(rp: RelyingParty, header: str) -> None:
    response = rp.back_channel.post("/oidc/token", content_type="application/x-www-form-urlencoded",
                                    data=urlencode({"grant_type": "authorization_code", "code": "x"}),
                                    HTTP_AUTHORIZATION=header)
    oauth_error(response, "invalid_client", 401)


def test_basic_client_id_must_match_the_body(rp: RelyingParty, make_rp: Any) -> None:
    other = make_rp(name="Other")
    oauth_error(rp.redeem(rp.code(), client_id=other.client_id), "invalid_request")


def test_a_public_client_uses_pkce_and_no_secret(make_rp: Any, browser: Client) -> None:
    rp = make_rp(browser, public=True)
    assert rp.secret is None and not rp.app.has_secret
    response = rp.redeem(rp.code(), auth="none", client_id=rp.client_id)
    assert response.status_code == 200
    oauth_error(rp.redeem(rp.code(), auth="none", code_verifier=None), "invalid_request")
    oauth_error(rp.redeem(rp.code(), auth="post", client_secret="anything"), "invalid_client", 401)


def test_a_public_client_refresh_token_rotates(make_rp: Any, browser: Client) -> None:
    """RFC 9700 §2.2.2: refresh tokens of public clients are rotated (and reuse revokes the family)."""
    rp = make_rp(browser, public=True)
    tokens = rp.redeem(rp.code(scope="openid offline_access"), auth="none").json()
    fresh = rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"], auth="none")
    assert fresh.status_code == 200
    oauth_error(rp.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"], auth="none"),
                "invalid_grant")
    oauth_error(rp.token(grant_type="refresh_token", refresh_token=fresh.json()["refresh_token"], auth="none"),
                "invalid_grant")


# --- private_key_jwt (RFC 7523) -----------------------------------------------------------------------------

def client_key(kind: str = "EC") -> Any:
    if kind == "RSA":
        return RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return ECKey.import_key(ec.generate_private_key(ec.SECP256R1()))


def assertion(rp: RelyingParty, key: Any, **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": rp.client_id, "sub": rp.client_id, "aud": TOKEN_URL, "iat": now, "exp": now + 60,
            "jti": uuid.uuid4().hex, **claims}
    body = {k: v for k, v in body.items() if v is not None}
    alg = "RS256" if isinstance(key, RSAKey) else "ES256"
    return str(jwt.encode({"alg": alg, "kid": key.thumbprint()}, body, key, algorithms=[alg]))


@pytest.fixture
def jwt_rp(make_rp: Any, browser: Client) -> tuple[RelyingParty, Any]:
    key = client_key()
    public = {**key.as_dict(private=False), "kid": key.thumbprint(), "use": "sig"}
    return make_rp(browser, auth_method="private_key_jwt", jwks={"keys": [public]}), key


def redeem_with(rp: RelyingParty, client_assertion: str, **form: Any) -> Any:
    return rp.redeem(rp.code(), auth="jwt", client_assertion_type="urn:ietf:params:oauth:client-assertion-type:"
                     "jwt-bearer", client_assertion=client_assertion, **form)


def test_private_key_jwt(jwt_rp: tuple[RelyingParty, Any]) -> None:
    rp, key = jwt_rp
    assert rp.secret is None
    assert redeem_with(rp, assertion(rp, key)).status_code == 200
    assert redeem_with(rp, assertion(rp, key, aud=ISSUER)).status_code == 200  # the issuer is an audience too
    assert audit("oidc.token", result="success")[-1].details["clientAuth"] == "private_key_jwt"


def test_private_key_jwt_jti_is_single_use(jwt_rp: tuple[RelyingParty, Any]) -> None:
    rp, key = jwt_rp
    used = assertion(rp, key)
    assert redeem_with(rp, used).status_code == 200
    oauth_error(redeem_with(rp, used), "invalid_client", 401)
    assert audit("oidc.token", reason="client_assertion_invalid")


@pytest.mark.parametrize("change", [
    {"aud": "https://elsewhere.example/token"}, {"aud": None}, {"exp": None}, {"exp": int(time.time()) - 600},
    {"iss": "someone-else"}, {"jti": None}, {"exp": int(time.time()) + 7200},
])
def test_private_key_jwt_claims_are_checked(jwt_rp: tuple[RelyingParty, Any], change: dict[str, Any]) -> None:
    rp, key = jwt_rp
    oauth_error(redeem_with(rp, assertion(rp, key, **change)), "invalid_client", 401)
    assert OidcToken.objects.count() == 0


def test_private_key_jwt_needs_a_registered_key(jwt_rp: tuple[RelyingParty, Any]) -> None:
    rp, _ = jwt_rp
    stranger = client_key()
    oauth_error(redeem_with(rp, assertion(rp, stranger)), "invalid_client", 401)
    # a key carried in the token itself (jwk header) is never trusted
    now = int(time.time())
    embedded = jwt.encode({"alg": "ES256", "jwk": stranger.as_dict(private=False)},
                          {"iss": rp.client_id, "sub": rp.client_id, "aud": TOKEN_URL, "exp": now + 60,
                           "jti": "1"}, stranger, algorithms=["ES256"])
    oauth_error(redeem_with(rp, embedded), "invalid_client", 401)
    oauth_error(redeem_with(rp, "not.a.jwt"), "invalid_client", 401)
    none_alg = "eyJhbGciOiJub25lIn0." + assertion(rp, stranger).split(".")[1] + "."
    oauth_error(redeem_with(rp, none_alg), "invalid_client", 401)


def test_a_registered_key_too_weak_authenticates_nobody(jwt_rp: tuple[RelyingParty, Any]) -> None:
    """A 1024-bit RSA key an older version let an app register (issue 9 finding 7): it can be factored, so an
    assertion it signs is refused like a stranger's."""
    rp, _ = jwt_rp
    weak = RSAKey.import_key(weak_rsa_key(1024).private_key)
    AppRegistration.objects.filter(app_id=rp.client_id).update(
        jwks={"keys": [{**weak.as_dict(private=False), "kid": weak.thumbprint(), "use": "sig"}]})
    oauth_error(redeem_with(rp, assertion(rp, weak)), "invalid_client", 401)
    assert OidcToken.objects.count() == 0


def test_private_key_jwt_client_cannot_use_a_secret(jwt_rp: tuple[RelyingParty, Any]) -> None:
    rp, _ = jwt_rp
    oauth_error(rp.redeem(rp.code(), auth="post", client_secret="guess"), "invalid_client", 401)


def test_wrong_assertion_type(jwt_rp: tuple[RelyingParty, Any]) -> None:
    rp, key = jwt_rp
    response = rp.redeem(rp.code(), auth="jwt", client_assertion_type="urn:other", client_assertion=assertion(rp, key))
    oauth_error(response, "invalid_client", 401)


# --- bad requests -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("grant_type", ["password", "client_credentials", "implicit", 'x"y'])
def test_unsupported_grant_types(rp: RelyingParty, grant_type: str) -> None:
    """RFC 9700 §2.4: no password grant; client credentials stay on the Graph endpoint."""
    oauth_error(rp.token(grant_type=grant_type, username="pat", password="x", scope="openid"),
                "unsupported_grant_type")
    assert audit("oidc.token", reason="unsupported_grant_type")
    assert OidcToken.objects.count() == 0


def test_grant_type_missing(rp: RelyingParty) -> None:
    oauth_error(rp.token(code="x"), "invalid_request")
    assert audit("oidc.token", reason="grant_type_missing")


def test_only_post_and_forms(rp: RelyingParty) -> None:
    response = Client().get("/oidc/token")
    oauth_error(response, "invalid_request", 405)
    assert response["Allow"] == "POST"
    json_body = rp.back_channel.post("/oidc/token", data={"grant_type": "authorization_code"},
                                     content_type="application/json")
    oauth_error(json_body, "invalid_request")
    assert audit("oidc.token", reason="unsupported_media_type")


def test_repeated_parameters(rp: RelyingParty) -> None:
    code = rp.code()
    body = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": rp.redirect_uri,
                      "code_verifier": rp.verifier}) + "&code=" + code
    response = rp.back_channel.post("/oidc/token", data=body, content_type="application/x-www-form-urlencoded",
                                    HTTP_AUTHORIZATION=basic(rp.client_id, rp.secret or ""))
    oauth_error(response, "invalid_request")
    assert audit("oidc.token", reason="duplicate_parameter")


def test_credentials_in_the_url_are_refused(rp: RelyingParty) -> None:
    code = rp.code()
    response = rp.back_channel.post(f"/oidc/token?code={code}", content_type="application/x-www-form-urlencoded",
                                    data=urlencode({"grant_type": "authorization_code"}),
                                    HTTP_AUTHORIZATION=basic(rp.client_id, rp.secret or ""))
    oauth_error(response, "invalid_request")
    assert rp.redeem(code).status_code == 200


def test_the_graph_token_endpoint_does_not_take_codes(rp: RelyingParty) -> None:
    code = rp.code()
    response = rp.back_channel.post("/oauth2/v2.0/token", content_type="application/x-www-form-urlencoded",
                                    data=urlencode({"grant_type": "authorization_code", "code": code}),
                                    HTTP_AUTHORIZATION=basic(rp.client_id, rp.secret or ""))
    assert response.json()["error"] == "unsupported_grant_type"
    assert rp.redeem(code).status_code == 200


def test_a_client_secret_check_answers_the_same_after_the_same_sql_whoever_the_client_id_names(
        rp: RelyingParty, make_rp: Any) -> None:
    """An unknown client id, a public client (no secret) and a wrong secret: one answer, the same statements, one
    constant-time comparison each; only the audit row's reason code tells them apart."""
    public = make_rp(name="Public RP", public=True)
    code = rp.code()
    answers, shapes = [], []
    for client_id in (rp.client_id, public.client_id, str(uuid.uuid4())):
        with CaptureQueriesContext(connection) as captured:
            response = rp.back_channel.post(
                "/oidc/token", content_type="application/x-www-form-urlencoded",
                data=urlencode({"grant_type": "authorization_code", "code": code}),
                HTTP_AUTHORIZATION=basic(client_id, "x" * 43))
        answers.append((response.status_code, response.json(), response["WWW-Authenticate"]))
        shapes.append(sql_shape(captured))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][1] == {"error": "invalid_client", "error_description": "Client authentication failed."}
    assert shapes[0] == shapes[1] == shapes[2]
    assert [row.reason for row in audit("oidc.token", result="failure")] == [
        "invalid_client_secret", "invalid_client_secret", "unknown_client"]
