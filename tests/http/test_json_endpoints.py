"""Every JSON endpoint with bad input: a JSON 4xx naming the reason, never a 500, nothing changed,
and an audit failure row with that reason."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from passgate.audit.models import AuditEvent
from passgate.credentials.models import Challenge, Passkey, TemporaryAccessPass, ThrottleCounter
from passgate.directory.models import User
from tests.core.softauthn import b64
from tests.http.conftest import http_sign_in, post_json, session_key
from tests.services.support import authenticator_for, challenge_of

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Endpoint:
    url: str
    activity: str
    category: str
    signed_in: bool

    def __str__(self) -> str:
        return self.url


SIGNIN_OPTIONS = Endpoint("/signin/passkey/options", "passkey.signIn", "signIn", False)
SIGNIN_VERIFY = Endpoint("/signin/passkey/verify", "passkey.signIn", "signIn", False)
REGISTER_OPTIONS = Endpoint("/security-info/passkeys/options", "passkey.register", "securityInfo", True)
REGISTER_VERIFY = Endpoint("/security-info/passkeys/verify", "passkey.register", "securityInfo", True)
REAUTH_OPTIONS = Endpoint("/signin/reauth/options", "passkey.reauthenticate", "signIn", True)
REAUTH_VERIFY = Endpoint("/signin/reauth/verify", "passkey.reauthenticate", "signIn", True)
ENDPOINTS = [SIGNIN_OPTIONS, SIGNIN_VERIFY, REGISTER_OPTIONS, REGISTER_VERIFY, REAUTH_OPTIONS, REAUTH_VERIFY]


@pytest.fixture
def client() -> Client:
    """A client that returns a 500 as a response instead of raising, so the status can be asserted."""
    return Client(raise_request_exception=False)


@pytest.fixture
def caller(client: Client, enrolled: Any) -> Any:
    """The right client for an endpoint: anonymous for sign-in, freshly signed in (recent) otherwise."""

    def get(endpoint: Endpoint) -> Client:
        if endpoint.signed_in:
            response = http_sign_in(client, enrolled[1])
            assert response.status_code == 200, response.content
        return client

    return get


def snapshot() -> dict[str, Any]:
    return {
        "users": list(User.objects.order_by("pk").values_list("pk", "user_principal_name", "account_enabled")),
        "passkeys": list(Passkey.objects.order_by("pk").values_list(
            "pk", "sign_count", "last_used_at", "possibly_cloned_at", "display_name")),
        "challenges": Challenge.objects.count(),
        "consumed": sorted(Challenge.objects.filter(consumed_at__isnull=False).values_list("pk", flat=True)),
        "taps": list(TemporaryAccessPass.objects.order_by("pk").values_list("pk", "used_at", "revoked_at")),
        "throttle": list(ThrottleCounter.objects.order_by("scope", "key").values_list("scope", "key", "failures")),
    }


def auth_state(client: Client) -> tuple[str | None, Any, Any]:
    session = client.session
    return session_key(client), session.get("_auth_user_id"), session.get("pg_auth_time")


def check_refused(response: Any, *, code: str, activity: str, status: int = 400) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"].strip()
    rows = AuditEvent.objects.filter(activity=activity, result="failure", reason=code)
    assert rows.count() == 1, list(AuditEvent.objects.values_list("activity", "result", "reason"))


# --- bodies that are not a JSON object, on every endpoint --------------------------------------------

OVERSIZED = json.dumps({"credential": "A" * (64 * 1024)})
DEEPLY_NESTED = '{"credential": ' + "[" * 20_000 + "]" * 20_000 + "}"  # < 64 KiB
HUGE_NUMBER = '{"credential": ' + "1" * 5_000 + "}"  # int() refuses > 4300 digits

BAD_BODIES = [
    pytest.param(b'{"credential": ', "application/json", "malformed_json", id="truncated-json"),
    pytest.param(b"", "application/json", "malformed_json", id="empty-body"),
    pytest.param(b"{'single': 'quotes'}", "application/json", "malformed_json", id="not-json"),
    pytest.param(b'{"a": "\xff\xfe"}', "application/json", "malformed_json", id="not-utf8"),
    pytest.param(b"[1, 2, 3]", "application/json", "malformed_json", id="array"),
    pytest.param(b"null", "application/json", "malformed_json", id="null"),
    pytest.param(b'"credential"', "application/json", "malformed_json", id="string"),
    pytest.param(b"42", "application/json", "malformed_json", id="number"),
    pytest.param(b"{}", "text/plain", "unsupported_media_type", id="text-plain"),
    pytest.param(b"credential=x", "application/x-www-form-urlencoded", "unsupported_media_type", id="form"),
    pytest.param(b"{}", "application/jsonx", "unsupported_media_type", id="json-lookalike"),
    pytest.param(OVERSIZED.encode(), "application/json", "body_too_large", id="oversized"),
    pytest.param(DEEPLY_NESTED.encode(), "application/json", "malformed_json", id="deeply-nested"),
    pytest.param(HUGE_NUMBER.encode(), "application/json", "malformed_json", id="huge-integer"),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize(("body", "content_type", "code"), BAD_BODIES)
def test_bad_body_is_refused_and_audited(caller: Any, endpoint: Endpoint, body: bytes, content_type: str,
                                         code: str) -> None:
    client = caller(endpoint)
    before, state = snapshot(), auth_state(client)
    # CONTENT_TYPE passed explicitly too: the test client drops the header when the body is empty.
    response = client.post(endpoint.url, data=body, content_type=content_type, CONTENT_TYPE=content_type)
    check_refused(response, code=code, activity=endpoint.activity)
    row = AuditEvent.objects.get(activity=endpoint.activity, result="failure", reason=code)
    assert row.category == endpoint.category
    assert snapshot() == before
    assert auth_state(client) == state


def test_json_with_charset_is_accepted(caller: Any) -> None:
    client = caller(SIGNIN_OPTIONS)
    response = client.post(SIGNIN_OPTIONS.url, data=b"{}", content_type="application/json; charset=utf-8")
    assert response.status_code == 200
    assert "challenge" in response.json()["publicKey"]


def test_body_of_exactly_64_kib_is_read(caller: Any) -> None:
    client = caller(SIGNIN_VERIFY)
    body = json.dumps({"credential": "x", "pad": ""})
    body = body[:-2] + "A" * (64 * 1024 - len(body)) + '"}'
    assert len(body) == 64 * 1024
    check_refused(client.post(SIGNIN_VERIFY.url, data=body, content_type="application/json"),
                  code="malformed_credential", activity="passkey.signIn")


# --- sign-in endpoints need no sign-in; the others answer 401 / 403 ------------------------------------

@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.signed_in], ids=str)
def test_signed_in_endpoints_answer_401_to_anonymous(client: Client, endpoint: Endpoint) -> None:
    before = snapshot()
    response = post_json(client, endpoint.url, {})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_signed_in"
    assert snapshot() == before


# --- credentials that are not what they should be ---------------------------------------------------

NOT_OBJECTS = [None, "credential", 42, [1, 2], True]


@pytest.mark.parametrize("credential", NOT_OBJECTS, ids=repr)
@pytest.mark.parametrize("endpoint", [SIGNIN_VERIFY, REGISTER_VERIFY, REAUTH_VERIFY], ids=str)
def test_credential_not_an_object(caller: Any, endpoint: Endpoint, credential: Any) -> None:
    client = caller(endpoint)
    before, state = snapshot(), auth_state(client)
    body: dict[str, Any] = {"name": "Key"}
    if credential is not None:
        body["credential"] = credential
    check_refused(post_json(client, endpoint.url, body), code="malformed_credential", activity=endpoint.activity)
    assert snapshot() == before
    assert auth_state(client) == state


def unissued_assertion(auth: Any) -> dict[str, Any]:
    return auth.assert_(challenge=secrets.token_bytes(32))


@pytest.mark.parametrize(("where", "value"), [
    ("rawId", "not base64url!"), ("rawId", "AAAA+/=="), ("rawId", ""), ("rawId", 12),
    ("response.clientDataJSON", "a+b/c="), ("response.clientDataJSON", "A"), ("response.clientDataJSON", None),
    ("response.userHandle", "@@@@"), ("response", "not an object"),
])
@pytest.mark.parametrize("endpoint", [SIGNIN_VERIFY, REAUTH_VERIFY], ids=str)
def test_assertion_with_non_base64url_fields(caller: Any, enrolled: Any, endpoint: Endpoint, where: str,
                                             value: Any) -> None:
    client = caller(endpoint)
    credential = unissued_assertion(enrolled[1])
    target = credential
    *path, last = where.split(".")
    for part in path:
        target = target[part]
    target[last] = value
    before, state = snapshot(), auth_state(client)
    check_refused(post_json(client, endpoint.url, {"credential": credential}), code="malformed_credential",
                  activity=endpoint.activity)
    assert snapshot() == before
    assert auth_state(client) == state


def test_registration_with_non_base64url_client_data(caller: Any, enrolled: Any) -> None:
    client = caller(REGISTER_VERIFY)
    credential = authenticator_for(enrolled[0]).register(challenge=secrets.token_bytes(32))
    credential["response"]["clientDataJSON"] = "not*base64url"
    before = snapshot()
    check_refused(post_json(client, REGISTER_VERIFY.url, {"credential": credential, "name": "Key"}),
                  code="malformed_credential", activity="passkey.register")
    assert snapshot() == before


def test_registration_without_a_name(caller: Any, enrolled: Any) -> None:
    client = caller(REGISTER_VERIFY)
    options = post_json(client, REGISTER_OPTIONS.url, {}).json()
    credential = authenticator_for(enrolled[0]).register(challenge=challenge_of(options))
    before = snapshot()
    check_refused(post_json(client, REGISTER_VERIFY.url, {"credential": credential}),
                  code="invalid_passkey_name", activity="passkey.register")
    assert snapshot() == before


def issued_registration(client: Client, user: Any) -> tuple[dict[str, Any], Any]:
    options = post_json(client, REGISTER_OPTIONS.url, {})
    assert options.status_code == 200
    auth = authenticator_for(user)
    return auth.register(challenge=challenge_of(options.json())), challenge_of(options.json())


def test_truncated_cbor_attestation_object(caller: Any, enrolled: Any) -> None:
    client = caller(REGISTER_VERIFY)
    credential, challenge = issued_registration(client, enrolled[0])
    full = credential["response"]["attestationObject"]
    credential["response"]["attestationObject"] = b64(_unb64(full)[: len(_unb64(full)) // 2])
    before, state = snapshot(), auth_state(client)
    check_refused(post_json(client, REGISTER_VERIFY.url, {"credential": credential, "name": "Key"}),
                  code="malformed_attestation_object", activity="passkey.register")
    after = snapshot()
    # Only change: the challenge this response named is used up (a refused response burns its challenge).
    row = Challenge.objects.get(challenge=challenge)
    assert after["consumed"] == sorted([*before["consumed"], row.pk])
    assert {**after, "consumed": before["consumed"]} == before
    assert auth_state(client) == state


def _unb64(text: str) -> bytes:
    from tests.core.softauthn import unb64

    return unb64(text)


def test_registration_of_an_already_registered_passkey(caller: Any, enrolled: Any) -> None:
    _user, auth, _passkey = enrolled
    client = caller(REGISTER_VERIFY)
    options = post_json(client, REGISTER_OPTIONS.url, {}).json()
    assert options["publicKey"]["excludeCredentials"][0]["id"] == b64(auth.credential_id)
    credential = auth.register(challenge=challenge_of(options))
    before = snapshot()
    check_refused(post_json(client, REGISTER_VERIFY.url, {"credential": credential, "name": "Again"}),
                  code="credential_already_registered", activity="passkey.register")
    assert snapshot()["passkeys"] == before["passkeys"]


def test_sign_in_with_unknown_credential(caller: Any, make_user: Any) -> None:
    client = caller(SIGNIN_VERIFY)
    stranger = authenticator_for(make_user(), sign_count=1)
    options = post_json(client, SIGNIN_OPTIONS.url, {}).json()
    before = snapshot()
    response = post_json(client, SIGNIN_VERIFY.url, {"credential": stranger.assert_(challenge=challenge_of(options))})
    check_refused(response, code="unknown_credential", activity="passkey.signIn")
    after = snapshot()
    assert after["passkeys"] == before["passkeys"] and after["users"] == before["users"]
    assert "_auth_user_id" not in client.session


def test_reauth_with_unknown_or_foreign_credential(caller: Any, make_user: Any) -> None:
    from tests.services.support import register

    client = caller(REAUTH_VERIFY)
    state = auth_state(client)
    other = make_user()
    foreign = authenticator_for(other, sign_count=1)
    register(other, foreign)
    for auth in (authenticator_for(other, sign_count=1), foreign):  # unregistered, then someone else's
        options = post_json(client, REAUTH_OPTIONS.url, {}).json()
        auth.sign_count += 1
        response = post_json(client, REAUTH_VERIFY.url, {"credential": auth.assert_(challenge=challenge_of(options))})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unknown_credential"
    assert AuditEvent.objects.filter(activity="passkey.reauthenticate", reason="unknown_credential").count() == 2
    assert auth_state(client) == state


@pytest.mark.parametrize("endpoint", [SIGNIN_VERIFY, REAUTH_VERIFY], ids=str)
def test_expired_challenge(caller: Any, enrolled: Any, endpoint: Endpoint) -> None:
    client = caller(endpoint)
    options_url = SIGNIN_OPTIONS.url if endpoint is SIGNIN_VERIFY else REAUTH_OPTIONS.url
    options = post_json(client, options_url, {}).json()
    Challenge.objects.filter(challenge=challenge_of(options)).update(expires_at=timezone.now() - timedelta(seconds=1))
    auth = enrolled[1]
    auth.sign_count += 1
    before, state = snapshot(), auth_state(client)
    response = post_json(client, endpoint.url, {"credential": auth.assert_(challenge=challenge_of(options))})
    check_refused(response, code="challenge_expired", activity=endpoint.activity)
    assert snapshot() == before
    assert auth_state(client) == state


def test_expired_registration_challenge(caller: Any, enrolled: Any) -> None:
    client = caller(REGISTER_VERIFY)
    credential, challenge = issued_registration(client, enrolled[0])
    Challenge.objects.filter(challenge=challenge).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = snapshot()
    check_refused(post_json(client, REGISTER_VERIFY.url, {"credential": credential, "name": "Key"}),
                  code="challenge_expired", activity="passkey.register")
    assert snapshot() == before


@pytest.mark.parametrize("endpoint", [SIGNIN_VERIFY, REAUTH_VERIFY], ids=str)
def test_reused_challenge(caller: Any, enrolled: Any, endpoint: Endpoint) -> None:
    """A response whose challenge a refused attempt already used up is refused as challenge_consumed."""
    client = caller(endpoint)
    options_url = SIGNIN_OPTIONS.url if endpoint is SIGNIN_VERIFY else REAUTH_OPTIONS.url
    options = post_json(client, options_url, {}).json()
    auth = enrolled[1]
    auth.sign_count += 1
    good = auth.assert_(challenge=challenge_of(options))
    bad = auth.assert_(challenge=challenge_of(options), signature=b"\x30\x06\x02\x01\x01\x02\x01\x01")
    state = auth_state(client)
    first = post_json(client, endpoint.url, {"credential": bad})
    assert first.json()["error"]["code"] == "signature_invalid"
    before = snapshot()
    check_refused(post_json(client, endpoint.url, {"credential": good}), code="challenge_consumed",
                  activity=endpoint.activity)
    assert snapshot() == before
    assert auth_state(client) == state


def test_reused_registration_challenge(caller: Any, enrolled: Any) -> None:
    client = caller(REGISTER_VERIFY)
    credential, _challenge = issued_registration(client, enrolled[0])
    assert post_json(client, REGISTER_VERIFY.url, {"credential": credential, "name": "Key"}).status_code == 200
    before = snapshot()
    check_refused(post_json(client, REGISTER_VERIFY.url, {"credential": credential, "name": "Key"}),
                  code="challenge_consumed", activity="passkey.register")
    assert snapshot() == before


def test_replaying_a_successful_sign_in_from_another_browser(client: Client, enrolled: Any) -> None:
    options = post_json(client, SIGNIN_OPTIONS.url, {}).json()
    auth = enrolled[1]
    auth.sign_count += 1
    credential = auth.assert_(challenge=challenge_of(options))
    assert post_json(client, SIGNIN_VERIFY.url, {"credential": credential}).status_code == 200
    thief = Client(raise_request_exception=False)
    before = snapshot()
    check_refused(post_json(thief, SIGNIN_VERIFY.url, {"credential": credential}),
                  code="challenge_wrong_session", activity="passkey.signIn")
    assert snapshot() == before
    assert "_auth_user_id" not in thief.session


# --- property: nothing a client sends makes the sign-in endpoint fail with a 500 ----------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
b64_strings = st.binary(max_size=80).map(b64)
client_data = st.fixed_dictionaries(
    {"type": st.sampled_from(["webauthn.get", "webauthn.create"]) | json_values,
     "challenge": b64_strings | json_values,
     "origin": st.sampled_from(["https://login.example.com", "https://evil.example"]) | json_values},
    optional={"crossOrigin": json_values, "tokenBinding": json_values, "topOrigin": json_values},
).map(lambda d: b64(json.dumps(d).encode()))
credential_like = st.fixed_dictionaries(
    {"id": b64_strings | json_values, "rawId": b64_strings | json_values,
     "type": st.just("public-key") | json_values,
     "response": st.fixed_dictionaries(
         {"clientDataJSON": client_data | b64_strings | json_values},
         optional={"authenticatorData": b64_strings | json_values, "signature": b64_strings | json_values,
                   "userHandle": b64_strings | json_values}) | json_values},
    optional={"clientExtensionResults": json_values, "authenticatorAttachment": json_values},
)
bodies = (
    json_values
    | st.fixed_dictionaries({"credential": credential_like | json_values})
    | st.dictionaries(st.text(max_size=12), json_values, max_size=5)
)


@hsettings(max_examples=150, deadline=None, database=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies)
def test_random_json_to_signin_verify_never_gives_a_500(db: Any, body: Any) -> None:
    client = Client(raise_request_exception=False)
    post_json(client, SIGNIN_OPTIONS.url, {})
    response = post_json(client, SIGNIN_VERIFY.url, body)
    assert response.status_code == 400, (response.status_code, response.content[:300])
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    assert "_auth_user_id" not in client.session
