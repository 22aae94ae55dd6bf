"""``passgate roles``: list, assign, remove, members; a role by name or template id, a person by UPN or id; bad
input is one line on stderr, a non-zero exit and no change."""

from __future__ import annotations

import getpass
import json
from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from passgate.directory.models import DirectoryRole, RoleAssignment, User

pytestmark = pytest.mark.django_db(transaction=True)
GA, UA = DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.USER_ADMINISTRATOR


def ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 0, err
    assert err == ""
    return out


def refused(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


@pytest.fixture
def people(cli: Any) -> None:
    ok(cli("users", "add", "ada@contoso.com", "--global-admin"))
    ok(cli("users", "add", "bob@contoso.com", "--display-name", "Bob"))


def test_list_assign_members_remove(cli: Any, people: None) -> None:
    listing = ok(cli("roles", "list")).splitlines()
    assert len(listing) == len(DirectoryRole)
    assert any(line.startswith("Global Administrator") and " 1 members " in line and GA.value in line
               for line in listing)

    bob = User.objects.get(upn_normalized="bob@contoso.com")
    assert ok(cli("roles", "assign", "User Administrator", "BOB@contoso.com")).strip() == (
        "bob@contoso.com now holds User Administrator")
    assert RoleAssignment.objects.filter(user=bob, role=UA).exists()
    assert ok(cli("roles", "assign", GA.value, str(bob.id))).strip() == "bob@contoso.com now holds Global Administrator"
    assert ok(cli("roles", "members", "global administrator")).splitlines() == ["ada@contoso.com", "bob@contoso.com"]
    members = json.loads(ok(cli("roles", "members", UA.value, "--json")))
    assert members == [{"id": str(bob.id), "userPrincipalName": "bob@contoso.com", "displayName": "Bob",
                        "accountEnabled": True}]
    rows = {r["displayName"]: r for r in json.loads(ok(cli("roles", "list", "--json")))}
    assert rows["Global Administrator"] == {"id": GA.value, "displayName": "Global Administrator", "members": 2}
    assert rows["Global Reader"]["members"] == 0

    assert ok(cli("roles", "remove", "User Administrator", "bob@contoso.com")).strip() == (
        "bob@contoso.com no longer holds User Administrator")
    assert ok(cli("roles", "members", "User Administrator")).strip() == "(nobody holds User Administrator)"
    actors = set(AuditEvent.objects.filter(activity__startswith="role.").values_list("actor_name", flat=True))
    assert actors == {f"cli:{getpass.getuser()}"}
    assert AuditEvent.objects.filter(activity="role.addMember", result="success").count() == 2
    assert AuditEvent.objects.filter(activity="role.removeMember", result="success").count() == 1


@pytest.mark.parametrize(("argv", "words"), [
    (("roles", "assign", "Helpdesk Administrator", "bob@contoso.com"), "No directory role"),
    (("roles", "assign", "User Administrator", "nobody@contoso.com"), "No user"),
    (("roles", "assign", "Global Administrator", "ada@contoso.com"), "already holds the role"),
    (("roles", "remove", "User Administrator", "bob@contoso.com"), "does not hold"),
    (("roles", "remove", "Global Administrator", "ada@contoso.com"), "last enabled Global Administrator"),
    (("roles", "members", "Nobody"), "No directory role"),
])
def test_refusals_change_nothing(cli: Any, people: None, argv: tuple[str, ...], words: str) -> None:
    before = sorted(RoleAssignment.objects.values_list("user_id", "role"))
    message = refused(cli(*argv))
    assert words in message
    assert sorted(RoleAssignment.objects.values_list("user_id", "role")) == before


def test_refusals_are_audited_with_their_reason(cli: Any, people: None) -> None:
    refused(cli("roles", "remove", "Global Administrator", "ada@contoso.com"))
    refused(cli("roles", "assign", "Global Administrator", "ada@contoso.com"))
    refused(cli("roles", "assign", "Global Reader", "nobody@contoso.com"))
    refused(cli("roles", "remove", "Global Reader", "bob@contoso.com"))
    reasons = set(AuditEvent.objects.filter(result="failure", activity__startswith="role.")
                  .values_list("activity", "reason", "target_name"))
    assert reasons == {("role.removeMember", "last_global_admin", "Global Administrator"),
                       ("role.addMember", "role_already_assigned", "Global Administrator"),
                       ("role.addMember", "user_not_found", "Global Reader"),
                       ("role.removeMember", "role_not_assigned", "Global Reader")}
