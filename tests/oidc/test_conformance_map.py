"""Where each OpenID Foundation conformance module, and each RFC 9700 / OIDC Core item of the security checklist
(sections (e) and (f)), is covered in tests/oidc, or why it does not apply. ``test_every_named_test_exists`` keeps
this map true: every ``file::test`` named below must exist.

The suite itself can't run here (Java 21, MongoDB and Maven Central are out of reach; see the checklist). These
tests play its modules against the real URLconf with the same expectations. One difference a real certification run
must plan for: as RFC 9700 §2.1.1 allows, Passgate takes a confidential client's request without PKCE only when
it carries a nonce, and the basic plan's modules (other than oidcc-ensure-request-with-valid-pkce-succeeds) send
no code_challenge; oidcc-ensure-request-without-nonce-succeeds-for-code-flow sends neither, so run the suite with
PKCE enabled for its client, or expect invalid_request from that module.

oidcc-basic-certification-test-plan (38 modules)
  oidcc-server                                   test_authorize.py::test_oidcc_server
  oidcc-response-type-missing                    test_authorize.py::test_oidcc_response_type_missing
  oidcc-idtoken-signature                        test_discovery_and_keys.py::test_oidcc_idtoken_signature
  oidcc-idtoken-unsigned                         test_discovery_and_keys.py::test_oidcc_idtoken_unsigned
  oidcc-userinfo-get                             test_userinfo.py::test_oidcc_userinfo_get
  oidcc-userinfo-post-header                     test_userinfo.py::test_oidcc_userinfo_post_header
  oidcc-userinfo-post-body                       test_userinfo.py::test_oidcc_userinfo_post_body
  oidcc-ensure-request-without-nonce-succeeds-for-code-flow
    test_authorize.py::test_oidcc_ensure_request_without_nonce_succeeds_for_code_flow
  oidcc-scope-profile                            test_authorize.py::test_oidcc_scope_profile
  oidcc-scope-email                              test_authorize.py::test_oidcc_scope_email
  oidcc-scope-address, oidcc-scope-phone         test_authorize.py::test_oidcc_scope_address_and_phone
                                                 (no such attributes: the scope is dropped, the flow succeeds)
  oidcc-scope-all                                test_authorize.py::test_oidcc_scope_all
  oidcc-alternate-happy-flow                     test_authorize.py::test_oidcc_alternate_happy_flow
  oidcc-display-page, oidcc-display-popup        test_authorize.py::test_oidcc_display_page_and_popup
  oidcc-prompt-login                             test_authorize.py::test_oidcc_prompt_login
  oidcc-prompt-none-not-logged-in                test_authorize.py::test_oidcc_prompt_none_not_logged_in
  oidcc-prompt-none-logged-in                    test_authorize.py::test_oidcc_prompt_none_logged_in
  oidcc-max-age-1                                test_authorize.py::test_oidcc_max_age_1
  oidcc-max-age-10000                            test_authorize.py::test_oidcc_max_age_10000
  oidcc-ensure-request-with-unknown-parameter-succeeds
    test_authorize.py::test_oidcc_ensure_request_with_unknown_parameter_succeeds
  oidcc-id-token-hint                            test_authorize.py::test_oidcc_id_token_hint
  oidcc-login-hint                               test_authorize.py::test_oidcc_login_hint
  oidcc-ui-locales                               test_authorize.py::test_oidcc_ui_locales
  oidcc-claims-locales                           test_authorize.py::test_oidcc_claims_locales
  oidcc-ensure-request-with-acr-values-succeeds  test_authorize.py::test_oidcc_ensure_request_with_acr_values_succeeds
  oidcc-codereuse                                test_token.py::test_oidcc_codereuse
  oidcc-codereuse-30seconds                      test_token.py::test_oidcc_codereuse_30seconds
  oidcc-ensure-registered-redirect-uri           test_authorize.py::test_oidcc_ensure_registered_redirect_uri
  oidcc-ensure-post-request-succeeds             test_authorize.py::test_oidcc_ensure_post_request_succeeds
  oidcc-server-client-secret-post                test_token.py::test_oidcc_server_client_secret_post
  oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported
    test_authorize.py::test_oidcc_request_uri_unsigned_supported_correctly_or_rejected_as_unsupported
  oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported
    test_authorize.py::test_oidcc_unsigned_request_object_supported_correctly_or_rejected_as_unsupported
  oidcc-claims-essential
    test_authorize.py::test_oidcc_claims_essential (claims parameter ignored)
  oidcc-ensure-request-object-with-redirect-uri  test_authorize.py::test_oidcc_ensure_request_object_with_redirect_uri
  oidcc-refresh-token                            test_token.py::test_oidcc_refresh_token
  oidcc-ensure-request-with-valid-pkce-succeeds  test_authorize.py::test_oidcc_ensure_request_with_valid_pkce_succeeds

oidcc-config-certification-test-plan
  oidcc-discovery-endpoint-verification          test_discovery_and_keys.py::test_oidcc_discovery_endpoint_verification
  (issuer equality, as oidcc-discovery-issuer-not-matching-config checks it)
    test_discovery_and_keys.py::test_oidcc_discovery_issuer_not_matching_config

oidcc-rp-initiated-logout-certification-test-plan (11 modules)
  oidcc-rp-initiated-logout-discovery-endpoint-verification
    test_logout.py::test_oidcc_rp_initiated_logout_discovery_endpoint_verification
  oidcc-rp-initiated-logout                      test_logout.py::test_oidcc_rp_initiated_logout
  oidcc-rp-initiated-logout-bad-post-logout-redirect-uri
    test_logout.py::test_oidcc_rp_initiated_logout_bad_post_logout_redirect_uri
  oidcc-rp-initiated-logout-modified-id-token-hint
                                                 test_logout.py::test_oidcc_rp_initiated_logout_modified_id_token_hint
  oidcc-rp-initiated-logout-no-id-token-hint     test_logout.py::test_oidcc_rp_initiated_logout_no_id_token_hint
  oidcc-rp-initiated-logout-no-params            test_logout.py::test_oidcc_rp_initiated_logout_no_params
  oidcc-rp-initiated-logout-no-post-logout-redirect-uri
    test_logout.py::test_oidcc_rp_initiated_logout_no_post_logout_redirect_uri
  oidcc-rp-initiated-logout-no-state             test_logout.py::test_oidcc_rp_initiated_logout_no_state
  oidcc-rp-initiated-logout-only-state           test_logout.py::test_oidcc_rp_initiated_logout_only_state
  oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri
    test_logout.py::test_oidcc_rp_initiated_logout_query_added_to_post_logout_redirect_uri
  oidcc-rp-initiated-logout-bad-id-token-hint    test_logout.py::test_oidcc_rp_initiated_logout_bad_id_token_hint

Plans that do not apply
  oidcc-dynamic-certification-test-plan          no dynamic client registration (administrators register apps)
  oidcc-formpost-basic-certification-test-plan   response_mode=form_post is not offered
                                                 (refused:
    test_authorize.py::test_response_mode_other_than_query_is_refused)
  oidcc-implicit/hybrid plans                    response_type=code only
                                                 (test_authorize.py::test_only_the_code_response_type)
  back-channel, front-channel logout, session management, 3rd-party-initiated login
                                                 not offered (discovery says so: *_logout_supported false)

RFC 9700 §2 (checklist (e), "RFC 9700" 1-16)
  1 exact redirect URI match                     test_authorize.py::test_redirect_uri_must_match_exactly
  2 no open redirectors                          test_authorize.py::test_oidcc_ensure_registered_redirect_uri,
                                                 test_session_and_stepup.py::test_the_tap_page_refuses_an_open_redirect,
    test_session_and_stepup.py::test_the_step_up_page_never_redirects_off_site
  3 PKCE enforced at the token endpoint          test_token.py::test_pkce_verifier_is_checked
  4 no PKCE downgrade
    test_authorize.py::test_a_verifier_for_a_code_issued_without_a_challenge_is_refused,
    test_authorize.py::test_a_confidential_client_without_pkce_or_a_nonce_is_refused
  5 S256 only, advertised                        test_authorize.py::test_pkce_plain_and_other_methods_are_refused,
                                                 test_discovery_and_keys.py::test_oidcc_discovery_endpoint_verification
  6 public clients use PKCE                      test_token.py::test_a_public_client_uses_pkce_and_no_secret
  7 iss in the authorization response (RFC 9207) test_authorize.py::test_state_is_echoed_and_iss_is_returned
  8 no credentials forwarded on redirect         test_authorize.py::test_oidcc_ensure_post_request_succeeds (303)
  9 no token response types                      test_authorize.py::test_only_the_code_response_type
  10 sender-constrained access tokens            not implemented (no DPoP/mTLS); access tokens are opaque, 1 h,
                                                 revocable, UserInfo only (docs/oidc.md)
  11 public-client refresh tokens rotated        test_token.py::test_a_public_client_refresh_token_rotates,
                                                 test_token.py::test_reusing_a_rotated_refresh_token_revokes_the_family
  12 audience-restricted tokens                  test_userinfo.py::test_a_graph_token_is_not_a_userinfo_token
  13 no password grant                           test_token.py::test_unsupported_grant_types
  14 client authentication, asymmetric offered   test_token.py::test_private_key_jwt (and the other client tests)
  15 metadata published                          test_discovery_and_keys.py::test_oidcc_discovery_endpoint_verification
  16 no plain-http redirect URIs but loopback    test_registration.py::test_invalid_redirect_uris

OIDC Core (checklist (e), "OpenID Connect Core" 1-22), beyond the modules above
  4 prompt=none with other values
    test_authorize.py::test_prompt_none_with_another_value_is_invalid_request
  9 never redirect to an unvalidated URI         test_authorize.py::test_unknown_client_gets_an_error_page
  10 code bound to its client, single use        test_token.py::test_a_code_is_bound_to_its_client,
                                                 test_token.py::test_concurrent_redemptions_issue_once
  13 keys published with kid and rotated safely
    test_discovery_and_keys.py::test_rotation_keeps_the_old_key_published_until_its_tokens_expire
  14 hybrid/implicit hashes                      does not apply (code flow only)
  18 refresh tokens only with offline_access     test_token.py::test_refresh_tokens_only_with_offline_access
  20 pairwise sub                                not offered (subject_types_supported public; sub is the user's
                                                 immutable object id)
  21 logout needs id_token_hint or confirmation  test_logout.py::test_oidcc_rp_initiated_logout_no_params,
                                                 test_logout.py::test_a_hint_for_someone_else_asks_first
  22 acr/amr reflect the passkey honestly
    test_session_and_stepup.py::test_acr_values_lead_to_the_step_up_page_and_back
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

HERE = Path(__file__).parent
NAMED = re.compile(r"(test_[a-z_]+\.py)::(test_[a-z0-9_]+)")


def test_every_named_test_exists() -> None:
    named = NAMED.findall(__doc__ or "")
    assert len(named) > 60
    defined: dict[str, set[str]] = {}
    for path in HERE.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined[path.name] = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    missing = [f"{file}::{name}" for file, name in named if name not in defined.get(file, set())]
    assert missing == []
