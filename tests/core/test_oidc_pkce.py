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
