"""Property tests: every parser at Passgate's edges, fed arbitrary Unicode (lone surrogates, NUL, control
characters) and arbitrary lengths, either answers a value or raises the project's typed error (PassgateError).

Anything else (a KeyError, a TypeError, a UnicodeEncodeError) would be a 500 and an unaudited refusal. Bodies are
valid documents with one place changed (a value replaced, a key added), so the checks deep inside run too.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from passgate.core import directory
from passgate.core.access import BUILT_IN_STRENGTHS, ca_policy_from_graph, strength_from_graph
from passgate.core.access.conditional_access_graph import ca_policy_apply_patch
from passgate.core.access.strengths import strength_apply_patch
from passgate.core.errors import PassgateError
from passgate.core.graph.applications import read_application, read_key_id, read_password_credential
from passgate.core.graph.ids import PATH_PARAMETERS, IdShape, check_path_parameter
from passgate.core.graph.odata import parse_object_ref, parse_query
from passgate.core.graph.resources import GROUP, USER
from passgate.core.policy.graph import apply_method_patch, to_graph
from passgate.core.policy.model import DEFAULT_POLICY
from passgate.core.text import first_unusable, map_strings, strict_loads
from passgate.core.webauthn import read_assertion_header, read_registration_challenge
from passgate.core.webauthn._parse import parse_client_data
from tests.core.access.helpers import NOW, PAYROLL_APP, contractor_keys, policy_body, strength_body

EDGE = settings(max_examples=150, deadline=None, database=None)

# Every code point (lone surrogates and NUL too), short and long.
characters = st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF)
nasty = st.sampled_from(["\x00", "\ud800", "\udfff", "\udc80", "\x1b", "\u202e", "\ufeff", "\uffff", "\x7f"])
texts = st.one_of(
    st.text(characters, max_size=20),
    st.builds(lambda a, b, c: a + b + c, st.text(max_size=8), nasty, st.text(max_size=8)),
    st.integers(0, 3000).map(lambda n: "a" * n),
    st.text(characters, min_size=200, max_size=400),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*here, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*here, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """``base`` with one value replaced by anything, or one key added, at any depth."""
    body = copy.deepcopy(base)
    path = draw(st.sampled_from(_paths(body)))
    if not path:
        return draw(json_values) if draw(st.booleans()) else body
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and draw(st.booleans()):
        parent[draw(texts)] = draw(json_values)
    else:
        parent[path[-1]] = draw(json_values | texts)
    return body


def returns_or_refuses(parse: Callable[[], Any]) -> Any:
    try:
        return parse()
    except PassgateError as exc:
        assert isinstance(exc.code, str) and exc.code
        assert isinstance(exc.message, str)
        return None


def _new_id() -> str:
    return str(uuid.uuid4())


# --- the strict JSON loader feeds every parser below: it never lets unusable text through --------------------

@EDGE
@given(json_values)
def test_what_the_strict_loader_accepts_has_only_usable_text(value: Any) -> None:
    loaded = returns_or_refuses(lambda: strict_loads(json.dumps(value)))
    if loaded is not None:
        seen: list[str] = []
        map_strings(loaded, lambda s: seen.append(s) or s)
        assert all(first_unusable(s) is None for s in seen)


# --- OData ------------------------------------------------------------------------------------------------------

@EDGE
@given(st.dictionaries(st.sampled_from(["$filter", "$select", "$top", "$skiptoken", "$FILTER", "$expand"]) | texts,
                       st.lists(texts, min_size=1, max_size=2), max_size=4), st.booleans())
def test_odata_query_options(params: dict[str, list[str]], collection: bool) -> None:
    query = returns_or_refuses(lambda: parse_query(params, USER.query_spec, collection=collection, key=b"k" * 32))
    if query is not None and query.filter is not None:
        for clause in query.filter.clauses:
            assert not isinstance(clause.value, str) or first_unusable(clause.value) is None


@EDGE
@given(st.sampled_from(["displayName", "userPrincipalName", "id", "accountEnabled", "mailNickname"]),
       st.sampled_from(["eq", "startswith", "ne", "gt"]), texts)
def test_odata_filter_literals(prop: str, operator: str, literal: str) -> None:
    text = f"{prop} {operator} '{literal}'" if operator != "startswith" else f"startswith({prop},'{literal}')"
    returns_or_refuses(lambda: parse_query({"$filter": [text]}, USER.query_spec, collection=True, key=b"k" * 32))


@EDGE
@given(json_values | st.builds(lambda t: f"https://graph.microsoft.com/v1.0/directoryObjects/{t}", texts))
def test_odata_object_references(value: Any) -> None:
    found = returns_or_refuses(lambda: parse_object_ref(value, hosts=("id.contoso.test",)))
    if found is not None:
        assert uuid.UUID(found)


# --- Graph JSON readers ----------------------------------------------------------------------------------------

@EDGE
@given(mutated({"accountEnabled": True, "displayName": "Alice", "mailNickname": "alice",
                "userPrincipalName": "alice@contoso.com", "passwordProfile": {"password": "x"}}), st.booleans())
def test_user_bodies(body: Any, create: bool) -> None:
    returns_or_refuses(lambda: USER.validate(body, mode="create" if create else "update"))


@EDGE
@given(mutated({"displayName": "Pilot", "description": "Passkey pilot", "mailEnabled": False,
                "mailNickname": "pilot", "securityEnabled": True}), st.booleans())
def test_group_bodies(body: Any, create: bool) -> None:
    returns_or_refuses(lambda: GROUP.validate(body, mode="create" if create else "update"))


FIDO2_BODY = {k: v for k, v in to_graph(DEFAULT_POLICY.configurations[0]).items() if not k.startswith("@")}


@EDGE
@given(mutated(FIDO2_BODY), st.sampled_from(["fido2", "Fido2", "softwareOath", "temporaryAccessPass", "sms"]) | texts)
def test_methods_policy_patches(body: Any, method_id: str) -> None:
    if isinstance(body, dict):
        returns_or_refuses(lambda: apply_method_patch(DEFAULT_POLICY, method_id, body, new_id=_new_id))


@EDGE
@given(mutated(strength_body(combinationConfigurations=[])))
def test_authentication_strength_bodies(body: Any) -> None:
    returns_or_refuses(lambda: strength_from_graph(body, id=str(uuid.uuid4()), now=NOW))
    returns_or_refuses(lambda: strength_apply_patch(contractor_keys(), body, now=NOW))


@EDGE
@given(mutated(policy_body(conditions={"users": {"includeUsers": ["All"], "excludeGroups": [str(uuid.uuid4())]},
                                       "applications": {"includeApplications": [PAYROLL_APP]}})))
def test_conditional_access_bodies(body: Any) -> None:
    created = returns_or_refuses(lambda: ca_policy_from_graph(body, id=str(uuid.uuid4()), now=NOW,
                                                              strengths=BUILT_IN_STRENGTHS))
    if created is not None:
        returns_or_refuses(lambda: ca_policy_apply_patch(created, body, now=NOW, strengths=BUILT_IN_STRENGTHS))


@EDGE
@given(mutated({"displayName": "Wiki", "signInAudience": "AzureADMyOrg", "isFallbackPublicClient": False,
                "web": {"redirectUris": ["https://a.test/cb"], "logoutUrl": None},
                "requiredResourceAccess": [], "passwordCredentials": [{"displayName": "main"}]}), st.booleans())
def test_application_bodies(body: Any, create: bool) -> None:
    returns_or_refuses(lambda: read_application(body, create=create))


@EDGE
@given(mutated({"passwordCredential": {"displayName": "rotation"}, "keyId": str(uuid.uuid4())}))
def test_application_password_bodies(body: Any) -> None:
    returns_or_refuses(lambda: read_password_credential(body))
    returns_or_refuses(lambda: read_key_id(body))


# --- directory value rules --------------------------------------------------------------------------------------

@EDGE
@given(texts | json_values)
def test_directory_value_rules(value: Any) -> None:
    for rule in (directory.validate_upn, directory.validate_display_name, directory.validate_passkey_name,
                 directory.validate_mail_nickname):
        accepted = returns_or_refuses(lambda rule=rule: rule(value))
        if accepted is not None:
            assert first_unusable(accepted) is None and len(accepted) <= 256


# --- Graph path parameters --------------------------------------------------------------------------------------

@EDGE
@given(st.sampled_from(sorted(PATH_PARAMETERS)), texts | st.uuids().map(str) | st.just("alice@contoso.com"))
def test_path_parameters(name: str, value: str) -> None:
    try:
        check_path_parameter(name, value)
    except PassgateError as exc:
        assert exc.code == "malformed_id"
        assert first_unusable(exc.message) is None and len(exc.message) < 300
    else:
        assert first_unusable(value) is None and len(value) <= 115
        if PATH_PARAMETERS[name] is IdShape.GUID:
            assert uuid.UUID(value)


# --- WebAuthn JSON ----------------------------------------------------------------------------------------------

CLIENT_DATA = {"type": "webauthn.get", "challenge": "AAAAAAAAAAAAAAAAAAAAAA", "origin": "https://login.example.com",
               "crossOrigin": False}


@EDGE
@given(mutated(CLIENT_DATA) | json_values)
def test_client_data_json(value: Any) -> None:
    for raw in (json.dumps(value).encode(), json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")):
        returns_or_refuses(lambda raw=raw: parse_client_data(raw))


@EDGE
@given(mutated({"id": "AAAA", "rawId": "AAAA", "type": "public-key",
                "response": {"clientDataJSON": "e30", "attestationObject": "oA", "authenticatorData": "AA",
                             "signature": "AA", "userHandle": "AA", "transports": ["usb"]},
                "clientExtensionResults": {}}))
def test_credential_envelopes(credential: Any) -> None:
    if isinstance(credential, dict):
        returns_or_refuses(lambda: read_registration_challenge(credential))
        returns_or_refuses(lambda: read_assertion_header(credential))


# A regular expression's "$" also matches before a final newline: every anchored pattern at the edges must end at
# the end of the text (\Z or fullmatch). Each case below passed before that was fixed.
@given(st.sampled_from(["\n", "\n\n"]))
def test_a_final_newline_is_not_the_end(newline: str) -> None:
    from passgate.core.api_paths import api_kind
    from passgate.core.policy.model import is_guid

    assert not is_guid(str(uuid.uuid4()) + newline)
    for upn in ("alice" + newline + "@contoso.com", "alice@contoso" + newline + ".com"):
        try:
            directory.validate_upn(upn)
        except PassgateError:
            continue
        raise AssertionError(f"validate_upn accepted {upn!r}")
    assert api_kind("/oidc/token" + newline) is None
    assert api_kind("/v1.0" + newline) is None


@EDGE
@given(st.one_of(texts, st.binary(max_size=80).map(lambda b: base64.b64encode(b).decode())))
def test_http_basic_client_credentials(value: str) -> None:
    """RFC 6749 §2.3.1 Basic credentials, shared by both token endpoints: a pair of strings, or the typed error."""
    from passgate.core.oidc import basic_credentials

    try:
        client_id, secret = basic_credentials(value)
    except PassgateError as exc:
        assert exc.code == "malformed_basic_credentials"
    else:
        assert isinstance(client_id, str) and isinstance(secret, str)


def test_http_basic_client_credentials_are_form_urlencoded() -> None:
    from passgate.core.oidc import basic_credentials

    encoded = base64.b64encode(b"my%3Aclient:s%2Bcret+x").decode()
    assert basic_credentials(f" {encoded} ") == ("my:client", "s+cret x")
