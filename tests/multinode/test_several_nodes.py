"""Two Passgate nodes on one PostgreSQL database behind HAProxy, over real HTTP: what one node does, the other
sees at its very next request (tests/multinode/cluster.py). Node A and node B are addressed directly where a test
must show which node did what; HAProxy carries the rest."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.multinode.cluster import Cluster, Person, graph_token, jwt_header
from tests.processes import free_port, started, wait_for_output, wait_listening

pytestmark = pytest.mark.postgres

FIDO2 = "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/fido2"
CA_POLICIES = "/v1.0/identity/conditionalAccess/policies"
STRENGTHS = "/v1.0/identity/conditionalAccess/authenticationStrength/policies"


def enrolled(nodes: Cluster, nickname: str, base: str | None = None) -> tuple[Person, dict[str, str]]:
    """A person signed in with a pass, holding one passkey registered on ``base`` (node A by default)."""
    base = base or nodes.a.url
    user = nodes.new_user(base, nickname)
    person = Person(nodes.origin)
    person.tap_sign_in(base, user["upn"], user["tap"])
    added, _ = person.register(base, name="First key")
    assert added.status_code == 200, added.text
    return person, user


def another_browser(person: Person) -> Person:
    """The same person (same passkeys) in a browser with no cookies."""
    other = Person(person.origin)
    other.passkeys = list(person.passkeys)
    return other


def test_two_nodes_started_together_on_an_empty_database_migrate_and_bootstrap_once(nodes: Cluster) -> None:
    """Both nodes ran migrations, key creation and the first-start bootstrap at the same moment (cluster()):
    both came up, one first administrator was made (one banner, in one node's log), one current key per
    algorithm."""
    banners = [node.name for node in nodes.nodes.values() if "first start" in node.log.read_text()]
    assert len(banners) == 1, banners
    admins = nodes.sql("SELECT user_principal_name FROM directory_user WHERE user_principal_name LIKE 'admin@%%'")
    assert admins == [("admin@localhost",)]
    current = nodes.sql("SELECT alg, count(*) FROM apps_signingkey WHERE retired_at IS NULL GROUP BY alg ORDER BY alg")
    assert current == [("ES256", 1), ("RS256", 1)]


def test_a_passkey_sign_in_begun_on_one_node_completes_on_the_other(nodes: Cluster) -> None:
    person, _ = enrolled(nodes, "ada")
    browser = another_browser(person)
    options = browser.post_json(nodes.a.url, "/signin/passkey/options", {})
    assert options.status_code == 200, options.text
    # the challenge node A issued is answered to node B, which finds it (and the session cookie A set)
    answer = browser.sign_in(nodes.a.url, nodes.b.url)
    assert answer.status_code == 200, answer.text
    assert browser.signed_in(nodes.a.url) and browser.signed_in(nodes.b.url)
    # and the other way round, for registration: options from B, the new credential verified by A
    added, _ = browser.register(nodes.b.url, nodes.a.url, name="Second key")
    assert added.status_code == 200, added.text
    assert len(person.passkeys) == 1 and len(browser.passkeys) == 2


def test_a_methods_policy_change_on_one_node_is_enforced_by_the_other_at_once(nodes: Cluster) -> None:
    person, _ = enrolled(nodes, "grace")
    assert another_browser(person).sign_in(nodes.b.url).status_code == 200  # B has parsed the policy now
    off = nodes.graph(nodes.a.url, "PATCH", FIDO2, {
        "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "state": "disabled"})
    assert off.status_code == 204, off.text
    try:
        refused = another_browser(person).sign_in(nodes.b.url)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "policy_method_disabled", refused.json()
    finally:
        on = nodes.graph(nodes.a.url, "PATCH", FIDO2, {
            "@odata.type": "#microsoft.graph.fido2AuthenticationMethodConfiguration", "state": "enabled"})
        assert on.status_code == 204, on.text
    assert another_browser(person).sign_in(nodes.b.url).status_code == 200


def test_a_conditional_access_policy_made_and_switched_on_on_one_node_binds_the_other_at_once(nodes: Cluster) -> None:
    person, user = enrolled(nodes, "hedy")
    assert person.sign_in(nodes.b.url).status_code == 200
    policy = nodes.graph(nodes.a.url, "POST", CA_POLICIES, {
        "displayName": "No new security info for Hedy", "state": "disabled",
        "conditions": {"users": {"includeUsers": [user["id"]]},
                       "applications": {"includeUserActions": ["urn:user:registersecurityinfo"]}},
        "grantControls": {"operator": "OR", "builtInControls": ["block"]}})
    assert policy.status_code == 201, policy.text
    url = f"{CA_POLICIES}/{policy.json()['id']}"
    try:
        allowed, _ = person.register(nodes.b.url)  # B has read (and cached) the policies, this one off
        assert allowed.status_code == 200, allowed.text
        switched = nodes.graph(nodes.a.url, "PATCH", url, {"state": "enabled"})  # the same row, changed on A
        assert switched.status_code == 204, switched.text
        refused, _ = person.register(nodes.b.url)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "conditional_access_blocked"
    finally:
        gone = nodes.graph(nodes.a.url, "DELETE", url)
        assert gone.status_code == 204, gone.text
    allowed, _ = person.register(nodes.b.url)
    assert allowed.status_code == 200, allowed.text


def test_an_authentication_strength_changed_on_one_node_is_applied_by_the_other_at_once(nodes: Cluster) -> None:
    person, user = enrolled(nodes, "barbara")
    assert person.sign_in(nodes.b.url).status_code == 200  # this session proved a passkey (fido2)
    strength = nodes.graph(nodes.a.url, "POST", STRENGTHS, {
        "displayName": "A pass, nothing else", "allowedCombinations": ["temporaryAccessPassOneTime"]})
    assert strength.status_code == 201, strength.text
    strength_url = f"{STRENGTHS}/{strength.json()['id']}"
    policy = nodes.graph(nodes.a.url, "POST", CA_POLICIES, {
        "displayName": "Barbara adds security info with that strength", "state": "enabled",
        "conditions": {"users": {"includeUsers": [user["id"]]},
                       "applications": {"includeUserActions": ["urn:user:registersecurityinfo"]}},
        "grantControls": {"operator": "OR", "authenticationStrength": {"id": strength.json()["id"]}}})
    assert policy.status_code == 201, policy.text
    try:
        refused, _ = person.register(nodes.b.url)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "conditional_access_step_up"
        widened = nodes.graph(nodes.a.url, "PATCH", strength_url,
                              {"allowedCombinations": ["fido2", "temporaryAccessPassOneTime"]})
        assert widened.status_code == 204, widened.text
        allowed, _ = person.register(nodes.b.url)
        assert allowed.status_code == 200, allowed.text
    finally:
        assert nodes.graph(nodes.a.url, "DELETE", f"{CA_POLICIES}/{policy.json()['id']}").status_code == 204
        assert nodes.graph(nodes.a.url, "DELETE", strength_url).status_code == 204


def test_sessions_revoked_on_one_node_are_refused_by_the_other(nodes: Cluster) -> None:
    person, user = enrolled(nodes, "linus")
    laptop, phone = another_browser(person), another_browser(person)
    assert laptop.sign_in(nodes.a.url).status_code == 200 and phone.sign_in(nodes.b.url).status_code == 200
    assert laptop.signed_in(nodes.b.url) and phone.signed_in(nodes.b.url)
    # sign out everywhere, on the laptop, on node A: the phone's session is refused by node B
    page = laptop.http.get(f"{nodes.a.url}/security-info/sign-out-everywhere", timeout=30)
    assert page.status_code == 200, page.text
    ended = laptop.http.post(f"{nodes.a.url}/security-info/sign-out-everywhere", timeout=30, allow_redirects=False,
                             headers={"X-CSRFToken": str(laptop.http.cookies.get("passgate_csrf"))})
    assert ended.status_code == 302, ended.text
    assert not phone.signed_in(nodes.b.url)
    assert not laptop.signed_in(nodes.b.url)
    # and an administrator's revokeSignInSessions through node A's Graph API
    assert phone.sign_in(nodes.b.url).status_code == 200 and phone.signed_in(nodes.b.url)
    revoked = nodes.graph(nodes.a.url, "POST", f"/v1.0/users/{user['id']}/revokeSignInSessions")
    assert revoked.status_code == 200, revoked.text
    assert not phone.signed_in(nodes.b.url)


def test_a_signing_key_rotated_on_one_node_is_published_and_used_by_the_other(nodes: Cluster) -> None:
    def kids(base: str) -> set[str]:
        answer = requests.get(f"{base}/oidc/jwks", timeout=30)
        assert answer.status_code == 200, answer.text
        return {key["kid"] for key in answer.json()["keys"]}

    before = kids(nodes.b.url)
    old_kid = jwt_header(graph_token(nodes.b.url, nodes.apps))["kid"]
    assert old_kid in before and kids(nodes.a.url) == before
    rotated = nodes.cli(nodes.a, "keys", "rotate", "--alg", "ES256")
    new_kids = kids(nodes.b.url) - before
    assert len(new_kids) == 1, rotated
    new_kid = new_kids.pop()
    assert new_kid in rotated and old_kid in kids(nodes.b.url)  # the old key stays published until its tokens expire
    from_a, from_b = graph_token(nodes.a.url, nodes.apps), graph_token(nodes.b.url, nodes.apps)
    assert jwt_header(from_a)["kid"] == jwt_header(from_b)["kid"] == new_kid
    # a token the other node signed with the new key is accepted, and so is one signed before the rotation
    for token in (from_a, nodes.graph_token):
        answer = requests.get(f"{nodes.b.url}/v1.0/users?$top=1", headers={"Authorization": f"Bearer {token}"},
                              timeout=30)
        assert answer.status_code == 200, answer.text
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", new_kid)


def test_an_openid_connect_code_issued_by_one_node_is_redeemed_and_refreshed_on_the_other(nodes: Cluster) -> None:
    person, _ = enrolled(nodes, "margaret")
    assert person.sign_in(nodes.a.url).status_code == 200
    redirect_uri = "http://localhost:9/callback"
    added = nodes.cli(nodes.a, "apps", "add", "--name", "Relying party", "--redirect-uri", redirect_uri)
    client_id = re.search(r"Application \(client\) ID:\s+(\S+)", added)
    secret = re.search(r"Client secret:\s+(\S+)", added)
    assert client_id and secret, added
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    authorized = person.http.get(f"{nodes.a.url}/oidc/authorize", allow_redirects=False, timeout=30, params={
        "response_type": "code", "client_id": client_id.group(1), "redirect_uri": redirect_uri,
        "scope": "openid profile offline_access", "state": "s1", "nonce": "n1", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    assert authorized.status_code == 302, authorized.text
    answer = parse_qs(urlsplit(authorized.headers["Location"]).query)
    assert answer["state"] == ["s1"] and answer["iss"] == [nodes.origin], answer
    client = (client_id.group(1), secret.group(1))
    tokens = requests.post(f"{nodes.b.url}/oidc/token", auth=client, timeout=30, data={
        "grant_type": "authorization_code", "code": answer["code"][0], "redirect_uri": redirect_uri,
        "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert jwt_header(body["id_token"])["kid"] in {k["kid"] for k in requests.get(
        f"{nodes.a.url}/oidc/jwks", timeout=30).json()["keys"]}
    me = requests.get(f"{nodes.a.url}/oidc/userinfo", timeout=30,
                      headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["name"] == "Margaret", me.text
    refreshed = requests.post(f"{nodes.a.url}/oidc/token", auth=client, timeout=30, data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    # the code was used on B: A refuses it a second time
    again = requests.post(f"{nodes.a.url}/oidc/token", auth=client, timeout=30, data={
        "grant_type": "authorization_code", "code": answer["code"][0], "redirect_uri": redirect_uri,
        "code_verifier": verifier})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text


def test_a_node_with_another_secret_key_is_not_ready_and_makes_no_keys_of_its_own(nodes: Cluster,
                                                                                   tmp_path: Path) -> None:
    """The easy mistake: a third node set up without PASSGATE_SECRET_KEY generates its own (a node-local file).
    It cannot decrypt the cluster's signing keys: it must stay out of rotation (/readyz 503, naming the secret
    key) and must not add keys of its own that no other node can use."""
    keys_before = nodes.sql("SELECT kid, retired_at FROM apps_signingkey ORDER BY kid")
    jwks_before = requests.get(f"{nodes.a.url}/oidc/jwks", timeout=30).json()
    port = free_port()
    env = {k: v for k, v in nodes.a.env.items() if k != "PASSGATE_SECRET_KEY"}
    env["PASSGATE_DATA_DIR"] = str(tmp_path / "data-c")
    log = tmp_path / "node-c.log"
    with started(["serve", "--port", str(port), "--workers", "1"], env, log) as proc:
        wait_listening(port, proc)
        wait_for_output(log, proc, "Worker ready")
        node_c = f"http://localhost:{port}"
        ready = requests.get(f"{node_c}/readyz", timeout=30)
        assert ready.status_code == 503, ready.text
        assert ready.json()["failing"] == ["signing_keys"], ready.text
        assert "PASSGATE_SECRET_KEY" in ready.json()["checks"]["signing_keys"], ready.text
        assert requests.get(f"{node_c}/oidc/jwks", timeout=30).status_code == 500
        refused = requests.post(f"{node_c}/contoso.onmicrosoft.com/oauth2/v2.0/token", timeout=30, data={
            "grant_type": "client_credentials", "client_id": nodes.apps["client_id"],
            "client_secret": nodes.apps["client_secret"], "scope": "https://graph.microsoft.com/.default"})
        assert refused.status_code >= 500, refused.text
        assert "PASSGATE_SECRET_KEY" in log.read_text()
    assert nodes.sql("SELECT kid, retired_at FROM apps_signingkey ORDER BY kid") == keys_before
    assert requests.get(f"{nodes.a.url}/oidc/jwks", timeout=30).json() == jwks_before
