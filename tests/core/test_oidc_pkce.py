"""RFC 9700 §2.1.1 at the authorization endpoint (core.oidc.pkce_refusal): who must send PKCE."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from passgate.core.oidc import PKCE_REFUSALS, ClientType, pkce_refusal

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_a_request_with_a_challenge_goes_on_whoever_sends_it() -> None:
    for client_type in ClientType:
        for require in (True, False):
            assert pkce_refusal(client_type=client_type, require_pkce=require, code_challenge=CHALLENGE,
                                nonce=None) is None


def test_a_public_client_must_use_pkce_even_with_a_nonce() -> None:
    assert pkce_refusal(client_type=ClientType.PUBLIC, require_pkce=False, code_challenge=None,
                        nonce="n-0S6_WzA2Mj") == "pkce_missing"


def test_a_confidential_client_may_send_a_nonce_instead() -> None:
    assert pkce_refusal(client_type=ClientType.CONFIDENTIAL, require_pkce=False, code_challenge=None,
                        nonce="n-0S6_WzA2Mj") is None
    assert pkce_refusal(client_type=ClientType.CONFIDENTIAL, require_pkce=False, code_challenge="",
                        nonce="") == "pkce_or_nonce_missing"


def test_an_app_that_requires_pkce_gets_no_nonce_alternative() -> None:
    assert pkce_refusal(client_type=ClientType.CONFIDENTIAL, require_pkce=True, code_challenge=None,
                        nonce="n-0S6_WzA2Mj") == "pkce_required_for_app"


@given(client_type=st.sampled_from(list(ClientType)), require=st.booleans(),
       challenge=st.one_of(st.none(), st.just(""), st.just(CHALLENGE)),
       nonce=st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=20)))
def test_the_rule_as_a_whole(client_type: ClientType, require: bool, challenge: str | None, nonce: str | None) -> None:
    refusal = pkce_refusal(client_type=client_type, require_pkce=require, code_challenge=challenge, nonce=nonce)
    allowed = bool(challenge) or (client_type is ClientType.CONFIDENTIAL and not require and bool(nonce))
    assert (refusal is None) is allowed
    assert refusal is None or refusal in PKCE_REFUSALS


# --- the claims request parameter's id_token.acr (OIDC Core §5.5.1.1) -------------------------------------------

def test_claims_acr_values_come_first_then_acr_values() -> None:
    import json

    from passgate.core.oidc import parse_acr_values
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": ["b", "a"]}}, "userinfo": {}})
    assert parse_acr_values("a c", claims) == ("b", "a", "c")
    assert parse_acr_values(None, json.dumps({"id_token": {"acr": {"value": "x"}}})) == ("x",)
    assert parse_acr_values("a", json.dumps({"id_token": {"acr": None}})) == ("a",)
    assert parse_acr_values("a", json.dumps({"userinfo": {"name": {"essential": True}}})) == ("a",)


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                        st.sampled_from(["id_token", "userinfo", "acr", "value", "values", "essential", "x"]),
                        inner, max_size=4), max_leaves=12))
def test_parsing_any_claims_json_gives_strings_or_invalid_input(document: object) -> None:
    import json

    from passgate.core.errors import InvalidInput
    from passgate.core.oidc import parse_claims_acr
    try:
        values = parse_claims_acr(json.dumps(document))
    except InvalidInput as exc:
        assert exc.code == "claims_invalid"
    else:
        assert all(isinstance(v, str) and v for v in values)


# --- redirect loops ---------------------------------------------------------------------------------------------

def test_the_fourth_code_for_the_same_request_within_the_window_is_a_loop() -> None:
    from passgate.core.oidc import LOOP_LIMIT, LOOP_WINDOW_SECONDS, loop_check
    now = 1_000.0
    assert loop_check([], now=now) == (False, ())
    assert loop_check([now - 1, now - 2], now=now) == (False, (now - 1, now - 2))
    assert loop_check([now - 1] * LOOP_LIMIT, now=now)[0] is True
    assert loop_check([now - LOOP_WINDOW_SECONDS] * 5, now=now) == (False, ())  # old ones forgotten
    assert loop_check([now + 60] * 5, now=now) == (False, ())  # the clock went back
    assert loop_check(["x", None, True, now - 1], now=now) == (False, (now - 1,))  # damaged session data


@given(st.lists(st.floats(min_value=0, max_value=2_000, allow_nan=False), max_size=10),
       st.floats(min_value=0, max_value=2_000, allow_nan=False))
def test_a_loop_is_exactly_enough_recent_codes(times: list[float], now: float) -> None:
    from passgate.core.oidc import LOOP_LIMIT, LOOP_WINDOW_SECONDS, loop_check
    looping, kept = loop_check(times, now=now)
    assert all(0 <= now - t < LOOP_WINDOW_SECONDS for t in kept)
    assert looping == (len(kept) >= LOOP_LIMIT)
