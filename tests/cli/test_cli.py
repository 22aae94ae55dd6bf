"""The ``passgate`` command line, called in-process (``passgate.cli.main``) against the test database.

main() runs ``migrate`` on every call, so these tests use transactional test cases.
"""

from __future__ import annotations

import getpass
import json
import re
import uuid
from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from passgate.cli import main
from passgate.cli.commands import bootstrap_first_admin
from passgate.core.errors import TemporaryAccessPassRejected
from passgate.credentials import services
from passgate.credentials.models import TemporaryAccessPass
from passgate.directory.models import DirectoryRole, GroupMembership, RoleAssignment, SecurityGroup, User

pytestmark = pytest.mark.django_db(transaction=True)
TAP_PATTERN = re.compile(r"\b[2-9A-HJKMNP-TV-Z]{4}(?:-[2-9A-HJKMNP-TV-Z]{4}){3}\b")


def ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 0, err
    assert err == ""
    return out


# --- users --------------------------------------------------------------------------------------------

def test_users_add_list_show(cli: Any) -> None:
    out = ok(cli("users", "add", "ada@contoso.com", "--display-name", "Ada Lovelace"))
    user = User.objects.get()
    assert out.strip() == f"Added ada@contoso.com (id {user.id})"
    assert user.display_name == "Ada Lovelace" and not user.has_usable_password()

    ok(cli("users", "add", "Grace@Contoso.com", "--global-admin"))
    grace = User.objects.get(upn_normalized="grace@contoso.com")
    assert grace.display_name == "Grace"
    assert list(RoleAssignment.objects.filter(user=grace).values_list("role", flat=True)) == [
        DirectoryRole.GLOBAL_ADMINISTRATOR]

    listing = ok(cli("users", "list")).splitlines()
    assert [line.split()[0] for line in listing] == ["ada@contoso.com", "Grace@Contoso.com"]

    shown = ok(cli("users", "show", "ADA@contoso.com"))
    assert "userPrincipalName: ada@contoso.com" in shown
    assert ok(cli("users", "show", str(user.id))) == shown

    actions = AuditEvent.objects.filter(activity="user.add").values_list("actor_name", flat=True)
    assert set(actions) == {f"cli:{getpass.getuser()}"}


def test_users_json_outputs(cli: Any) -> None:
    added = json.loads(ok(cli("users", "add", "ada@contoso.com", "--json")))
    assert added["userPrincipalName"] == "ada@contoso.com"
    assert uuid.UUID(added["id"]) and added["accountEnabled"] is True and added["passkeys"] == 0
    ok(cli("users", "add", "bob@contoso.com", "--global-admin"))
    listing = json.loads(ok(cli("users", "list", "--json")))
    assert [u["userPrincipalName"] for u in listing] == ["ada@contoso.com", "bob@contoso.com"]
    assert listing[1]["roles"] == ["Global Administrator"]
    ok(cli("groups", "add", "Finance"))
    ok(cli("groups", "add-member", "Finance", "ada@contoso.com"))
    shown = json.loads(ok(cli("users", "show", "ada@contoso.com", "--json")))
    assert shown["groups"] == ["Finance"] and shown["id"] == added["id"]


def test_empty_lists(cli: Any) -> None:
    assert ok(cli("users", "list")).strip() == "(no users)"
    assert json.loads(ok(cli("users", "list", "--json"))) == []
    assert ok(cli("groups", "list")).strip() == "(no groups)"
    assert ok(cli("audit", "tail")).strip() == "(no events)"
    assert json.loads(ok(cli("audit", "tail", "--json"))) == []


def test_disable_enable(cli: Any) -> None:
    ok(cli("users", "add", "ada@contoso.com"))
    assert ok(cli("users", "disable", "ada@contoso.com")).strip() == "ada@contoso.com is now disabled"
    assert User.objects.get().account_enabled is False
    assert "DISABLED" in ok(cli("users", "list"))
    assert ok(cli("users", "enable", "ada@contoso.com")).strip() == "ada@contoso.com is now enabled"
    assert User.objects.get().account_enabled is True
    activities = list(AuditEvent.objects.order_by("occurred_at").values_list("activity", flat=True))
    assert activities == ["user.add", "user.disable", "user.revokeSignInSessions", "user.enable"]


def test_revoke_sessions(cli: Any, fails: Any) -> None:
    ok(cli("users", "add", "ada@contoso.com"))
    out = ok(cli("users", "revoke-sessions", "Ada@Contoso.com")).strip()
    user = User.objects.get()
    assert user.sign_in_sessions_valid_from is not None
    assert out == ("ada@contoso.com is signed out everywhere: sessions and app refresh tokens from before "
                   f"{user.sign_in_sessions_valid_from.isoformat(timespec='seconds')} are revoked")
    row = AuditEvent.objects.get(activity="user.revokeSignInSessions")
    assert row.target_id == str(user.id) and row.actor_name.startswith("cli:")
    assert "No user" in fails("users", "revoke-sessions", "nobody@contoso.com")
    with pytest.raises(SystemExit) as info:
        cli("users", "revoke-sessions")
    assert info.value.code == 2
    assert AuditEvent.objects.filter(activity="user.revokeSignInSessions").count() == 1


def test_set_upn(cli: Any) -> None:
    ok(cli("users", "add", "ada@contoso.com"))
    user = User.objects.get()
    out = ok(cli("users", "set-upn", "ada@contoso.com", "ada.lovelace@fabrikam.com"))
    assert out.strip() == (f"ada@contoso.com is now ada.lovelace@fabrikam.com (id {user.id} unchanged; "
                           "passkeys keep working)")
    user.refresh_from_db()
    assert user.user_principal_name == "ada.lovelace@fabrikam.com"
    assert ok(cli("users", "show", "ada.lovelace@fabrikam.com"))
    # Only the case changes: allowed, not a conflict with itself.
    ok(cli("users", "set-upn", str(user.id), "Ada.Lovelace@fabrikam.com"))


@pytest.mark.parametrize("upn", ["not-an-upn", "two@@contoso.com", "@contoso.com", "ada@", ".ada@contoso.com",
                                 "a" * 65 + "@contoso.com", "ada@contoso..com", "ada smith@contoso.com"])
def test_users_add_bad_upn(fails: Any, upn: str) -> None:
    line = fails("users", "add", upn)
    assert "user principal name" in line
    assert User.objects.count() == 0


def test_users_add_duplicate_upn(cli: Any, fails: Any) -> None:
    ok(cli("users", "add", "ada@contoso.com"))
    assert "already exists" in fails("users", "add", "ADA@contoso.com")
    assert User.objects.count() == 1


@pytest.mark.parametrize("argv", [
    ("users", "show", "nobody@contoso.com"),
    ("users", "show", "not-a-guid"),
    ("users", "show", str(uuid.UUID(int=1))),
    ("users", "disable", "nobody@contoso.com"),
    ("users", "enable", "nobody@contoso.com"),
    ("users", "set-upn", "nobody@contoso.com", "x@contoso.com"),
    ("groups", "add-member", "Finance", "nobody@contoso.com"),
    ("tap", "issue", "--user", "nobody@contoso.com"),
])
def test_unknown_user(cli: Any, fails: Any, argv: tuple[str, ...]) -> None:
    ok(cli("groups", "add", "Finance"))
    line = fails(*argv)
    assert "No user" in line


def test_set_upn_to_a_taken_or_bad_upn(cli: Any, fails: Any) -> None:
    ok(cli("users", "add", "ada@contoso.com"))
    ok(cli("users", "add", "bob@contoso.com"))
    assert "already exists" in fails("users", "set-upn", "bob@contoso.com", "Ada@Contoso.com")
    assert "user principal name" in fails("users", "set-upn", "bob@contoso.com", "bob")
    assert sorted(User.objects.values_list("user_principal_name", flat=True)) == ["ada@contoso.com",
                                                                                  "bob@contoso.com"]


# --- groups -------------------------------------------------------------------------------------------

def test_groups(cli: Any) -> None:
    out = ok(cli("groups", "add", "Finance", "--description", "Money people"))
    group = SecurityGroup.objects.get()
    assert out.strip() == f"Added group Finance (id {group.id})"
    assert group.description == "Money people"
    ok(cli("users", "add", "ada@contoso.com"))
    ok(cli("users", "add", "bob@contoso.com"))
    assert ok(cli("groups", "add-member", "finance", "ada@contoso.com")).strip() == "ada@contoso.com added to Finance"
    ok(cli("groups", "add-member", str(group.id), "bob@contoso.com"))
    assert ok(cli("groups", "members", "Finance")).split() == ["ada@contoso.com", "bob@contoso.com"]
    members = json.loads(ok(cli("groups", "members", "Finance", "--json")))
    assert [m["userPrincipalName"] for m in members] == ["ada@contoso.com", "bob@contoso.com"]
    listing = json.loads(ok(cli("groups", "list", "--json")))
    assert listing == [{"id": str(group.id), "displayName": "Finance", "members": 2}]
    assert "2 members" in ok(cli("groups", "list"))

    out = ok(cli("groups", "remove-member", "Finance", "ada@contoso.com"))
    assert out.strip() == "ada@contoso.com removed from Finance"
    assert list(GroupMembership.objects.values_list("user__user_principal_name", flat=True)) == ["bob@contoso.com"]
    added = json.loads(ok(cli("groups", "add", "Empty", "--json")))
    assert added["displayName"] == "Empty" and uuid.UUID(added["id"])
    assert ok(cli("groups", "members", "Empty")).strip() == "(no members)"


def test_group_errors(cli: Any, fails: Any) -> None:
    ok(cli("groups", "add", "Finance"))
    ok(cli("users", "add", "ada@contoso.com"))
    assert "already exists" in fails("groups", "add", "FINANCE")
    assert "No group" in fails("groups", "add-member", "Nope", "ada@contoso.com")
    assert "No group" in fails("groups", "members", "Nope")
    assert "No group" in fails("groups", "remove-member", "Nope", "ada@contoso.com")
    assert "not a member" in fails("groups", "remove-member", "Finance", "ada@contoso.com")
    ok(cli("groups", "add-member", "Finance", "ada@contoso.com"))
    assert "already a member" in fails("groups", "add-member", "Finance", "ada@contoso.com")
    assert GroupMembership.objects.count() == 1
    assert "displayName" in fails("groups", "add", "   ")
    assert SecurityGroup.objects.count() == 1


# --- Temporary Access Pass --------------------------------------------------------------------------

def test_tap_issue_prints_the_pass_once(cli: Any) -> None:
    ok(cli("users", "add", "ada@contoso.com"))
    out = ok(cli("tap", "issue", "--user", "ada@contoso.com", "--lifetime-minutes", "30"))
    passes = TAP_PATTERN.findall(out)
    assert len(passes) == 1, out
    plain = passes[0]
    assert "one-time, valid 30 minutes" in out
    row = TemporaryAccessPass.objects.get()
    assert row.lifetime_minutes == 30 and row.is_usable_once is True
    assert plain.encode() not in bytes(row.digest)
    # It works, once.
    assert services.tap_signin(upn="ada@contoso.com", tap=plain).user.user_principal_name == "ada@contoso.com"
    # The pass is not recoverable from anything the CLI shows later.
    assert plain not in ok(cli("audit", "tail", "--json"))
    assert plain not in ok(cli("users", "show", "ada@contoso.com", "--json"))


def test_tap_issue_json_multi_use(cli: Any) -> None:
    ok(cli("users", "add", "ada@contoso.com"))
    data = json.loads(ok(cli("tap", "issue", "--user", "ada@contoso.com", "--multi-use", "--json")))
    assert data["isUsableOnce"] is False and data["lifetimeInMinutes"] == 60
    assert data["user"] == "ada@contoso.com"
    assert TAP_PATTERN.fullmatch(data["temporaryAccessPass"])
    assert data["url"].endswith("/signin/tap?upn=ada@contoso.com")
    for _ in range(2):
        services.tap_signin(upn="ada@contoso.com", tap=data["temporaryAccessPass"])


@pytest.mark.parametrize("upn", ["o'hara#2@contoso.com", "a^b~c@contoso.com"])
def test_tap_issue_url_carries_the_exact_upn(cli: Any, upn: str) -> None:
    """UPNs may contain # and other URL-significant characters; the printed link must still name the user."""
    from urllib.parse import parse_qs, urlsplit

    ok(cli("users", "add", upn))
    data = json.loads(ok(cli("tap", "issue", "--user", upn, "--json")))
    parts = urlsplit(data["url"])
    assert parts.path == "/signin/tap"
    assert parts.fragment == ""
    assert parse_qs(parts.query) == {"upn": [upn]}


@pytest.mark.parametrize("minutes", ["9", "43201", "0", "-5", "ten", "60.5"])
def test_tap_lifetime_bounds_refused_by_argparse(cli: Any, capsys: Any, minutes: str) -> None:
    ok(cli("users", "add", "ada@contoso.com"))
    with pytest.raises(SystemExit) as info:
        main(["tap", "issue", "--user", "ada@contoso.com", "--lifetime-minutes", minutes])
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error: argument --lifetime-minutes" in captured.err.splitlines()[-1]
    assert TemporaryAccessPass.objects.count() == 0


@pytest.mark.parametrize("minutes", ["10", "43200"])
def test_tap_lifetime_bounds_accepted(cli: Any, minutes: str) -> None:
    ok(cli("users", "add", "ada@contoso.com"))
    ok(cli("tap", "issue", "--user", "ada@contoso.com", "--lifetime-minutes", minutes))
    assert TemporaryAccessPass.objects.get().lifetime_minutes == int(minutes)


def test_tap_once_and_multi_use_are_exclusive(cli: Any) -> None:
    with pytest.raises(SystemExit) as info:
        main(["tap", "issue", "--user", "a@contoso.com", "--once", "--multi-use"])
    assert info.value.code == 2


# --- audit --------------------------------------------------------------------------------------------

def test_audit_tail(cli: Any) -> None:
    ok(cli("users", "add", "ada@contoso.com"))
    ok(cli("groups", "add", "Finance"))
    ok(cli("tap", "issue", "--user", "ada@contoso.com"))
    with pytest.raises(TemporaryAccessPassRejected):
        services.tap_signin(upn="ada@contoso.com", tap="WRONG-PASS")

    events = json.loads(ok(cli("audit", "tail", "--json")))
    assert [e["activity"] for e in events] == ["user.add", "group.add", "tap.issue", "tap.signIn"]  # oldest first
    for event in events:
        assert set(event) >= {"id", "occurredDateTime", "category", "activity", "result", "reason", "actor",
                              "target", "details"}
    assert events[-1]["result"] == "failure" and events[-1]["reason"] == "tap_invalid"

    last_two = json.loads(ok(cli("audit", "tail", "--limit", "2", "--json")))
    assert [e["activity"] for e in last_two] == ["tap.issue", "tap.signIn"]
    directory = json.loads(ok(cli("audit", "tail", "--category", "directory", "--json")))
    assert [e["activity"] for e in directory] == ["user.add", "group.add"]
    failed = json.loads(ok(cli("audit", "tail", "--result", "failure", "--json")))
    assert [e["reason"] for e in failed] == ["tap_invalid"]

    text = ok(cli("audit", "tail")).splitlines()
    assert len(text) == 4
    assert "user.add" in text[0] and "tap_invalid" in text[-1]


@pytest.mark.parametrize("argv", [("audit", "tail", "--limit", "0"), ("audit", "tail", "--category", "bogus"),
                                  ("audit", "tail", "--result", "maybe"), ("users",), ("bogus",)])
def test_bad_arguments_exit_non_zero(argv: tuple[str, ...], capsys: Any) -> None:
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


# --- first start -------------------------------------------------------------------------------------

def test_bootstrap_first_admin_on_an_empty_directory(settings: Any) -> None:
    assert User.objects.count() == 0
    made = bootstrap_first_admin(admin_upn="root@contoso.com")
    assert made is not None
    user, plain = made
    assert User.objects.count() == 1
    assert User.objects.get().pk == user.pk and user.user_principal_name == "root@contoso.com"
    assert list(RoleAssignment.objects.values_list("user_id", "role")) == [
        (user.pk, DirectoryRole.GLOBAL_ADMINISTRATOR)]
    tap = TemporaryAccessPass.objects.get()
    assert tap.user_id == user.pk and tap.is_usable_once and tap.lifetime_minutes == 60
    assert TAP_PATTERN.fullmatch(plain)
    assert services.tap_signin(upn="root@contoso.com", tap=plain).user.pk == user.pk

    assert bootstrap_first_admin(admin_upn="second@contoso.com") is None
    assert bootstrap_first_admin() is None
    assert User.objects.count() == 1
    assert TemporaryAccessPass.objects.count() == 1
    assert RoleAssignment.objects.count() == 1


def test_bootstrap_default_upn_uses_the_rp_id(monkeypatch: Any, settings: Any) -> None:
    import dataclasses

    monkeypatch.delenv("PASSGATE_ADMIN_UPN", raising=False)
    settings.PASSGATE = dataclasses.replace(settings.PASSGATE, rp_id="id.contoso.com")
    made = bootstrap_first_admin()
    assert made is not None and made[0].user_principal_name == "admin@id.contoso.com"


def test_bootstrap_does_nothing_when_anyone_exists(cli: Any) -> None:
    ok(cli("users", "add", "ada@contoso.com"))
    assert bootstrap_first_admin() is None
    assert User.objects.count() == 1 and TemporaryAccessPass.objects.count() == 0
    assert RoleAssignment.objects.count() == 0
