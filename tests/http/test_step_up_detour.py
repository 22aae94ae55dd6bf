"""Step-up when the person's passkeys cannot meet the strength, and the way back from the detour (issue 14 items 2
and 3): no "Use my passkey" that cannot work, a plain sentence, and an "Add a passkey" that returns to the step-up
(and so to the app) once a passkey is added; never an open redirect."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.test import Client

from passgate.access.services import strength_create
from passgate.audit.services import Actor
from passgate.core.access.strengths import passkey_may_satisfy
from tests.http.conftest import http_sign_in, post_json
from tests.services.support import authenticator_for, challenge_of, register

pytestmark = pytest.mark.django_db

YUBIKEY = "cb69481e-8ff7-4039-93ec-0a2729a154a8"


@pytest.fixture
def yubikeys_only() -> Any:
    return strength_create(body={"displayName": "YubiKeys only", "allowedCombinations": ["fido2"],
                                 "combinationConfigurations": [{"appliesToCombinations": ["fido2"],
                                                                "allowedAAGUIDs": [YUBIKEY]}]},
                           actor=Actor.system("test"))


def test_the_core_rule(yubikeys_only: Any) -> None:
    assert passkey_may_satisfy(yubikeys_only, [YUBIKEY])
    assert not passkey_may_satisfy(yubikeys_only, ["ee882879-721c-4913-9775-3dfcce97072a"])
    assert not passkey_may_satisfy(yubikeys_only, [])


def test_no_use_my_passkey_when_none_qualifies_and_an_add_link_that_comes_back(enrolled: Any, client: Client,
                                                                                 yubikeys_only: Any) -> None:
    _user, auth, _ = enrolled  # a software authenticator: not a YubiKey
    assert http_sign_in(client, auth).status_code == 200
    step_up = f"/signin/step-up?strength={yubikeys_only.id}&next=/oidc/authorize%3Fclient_id%3Dx"
    page = client.get(step_up).content.decode()
    assert 'id="stepup-button"' not in page and "None of your passkeys meets this requirement" in page
    add = re.search(r'id="stepup-add-passkey" href="([^"]+)"', page)
    assert add, page
    target = add.group(1).replace("&amp;", "&")
    assert urlsplit(target).path == "/security-info"
    back = parse_qs(urlsplit(target).query)["next"][0]
    assert back.startswith("/signin/step-up?strength=")
    security_info = client.get(target).content.decode()
    assert 'id="detour-return"' in security_info
    assert re.search(r'data-next="([^"]+)"', security_info).group(1).replace("&amp;", "&") == back  # type: ignore[union-attr]


def test_adding_a_passkey_from_the_detour_returns_where_it_was_going(enrolled: Any, client: Client,
                                                                     yubikeys_only: Any) -> None:
    user, auth, _ = enrolled
    assert http_sign_in(client, auth).status_code == 200
    back = f"/signin/step-up?strength={yubikeys_only.id}&next=/security-info"
    options = post_json(client, "/security-info/passkeys/options", {})
    assert options.status_code == 200, options.content
    new = authenticator_for(user)
    answer = post_json(client, "/security-info/passkeys/verify", {
        "credential": new.register(challenge=challenge_of(options.json())), "name": "Second", "next": back})
    assert answer.status_code == 200, answer.content
    assert answer.json()["redirect"] == back


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_a_next_off_this_site_is_never_kept(enrolled: Any, client: Client, evil: str) -> None:
    _user, auth, _ = enrolled
    assert http_sign_in(client, auth).status_code == 200
    page = client.get("/security-info?next=" + quote(evil, safe="")).content.decode()
    assert "data-next" not in page and 'id="detour-return"' not in page and "evil.example" not in page


def test_a_person_without_any_passkey_gets_the_add_link_with_the_way_back(make_user: Any, issue_tap: Any,
                                                                          yubikeys_only: Any) -> None:
    from tests.http.conftest import http_tap_sign_in

    kim = make_user(upn="kim@contoso.com")
    client = Client()
    http_tap_sign_in(client, kim.user_principal_name, issue_tap(kim))
    page = client.get(f"/signin/step-up?strength={yubikeys_only.id}&next=/security-info").content.decode()
    assert 'id="stepup-no-passkey"' in page and 'id="stepup-add-passkey"' in page and 'id="stepup-button"' not in page


def test_a_qualifying_passkey_still_gets_use_my_passkey(make_user: Any, yubikeys_only: Any) -> None:
    import uuid

    pat = make_user(upn="pat@contoso.com")
    key = authenticator_for(pat, aaguid=uuid.UUID(YUBIKEY).bytes, backup_eligible=False)
    register(pat, key)
    other = authenticator_for(pat)
    register(pat, other, name="Laptop", session_key="reg-2")
    client = Client()
    assert http_sign_in(client, other).status_code == 200  # signed in with the one that does not qualify
    page = client.get(f"/signin/step-up?strength={yubikeys_only.id}&next=/security-info").content.decode()
    assert 'id="stepup-button"' in page and 'id="stepup-add-passkey"' not in page
