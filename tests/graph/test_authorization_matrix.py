"""Every endpoint times every caller: each application permission alone, each directory role alone, no permission,
no role, anonymous, and broken tokens. 401 and 403 exactly where Microsoft's tables put them, success elsewhere.

The expectations are written here from the Graph pages (not read from ``authz.OPERATIONS``), and the test also
checks that this list covers every registered endpoint, so a new endpoint cannot skip the matrix.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from passgate.apps.services import app_create
from passgate.audit.services import Actor
from passgate.core.graph.authz import Permission
from passgate.directory.models import DirectoryRole
from passgate.directory.services import group_add_member, group_create
from tests.graph.conftest import Api, error_of, issue_token, sign_in_session
from tests.graph.tokens import bad_tokens

pytestmark = pytest.mark.django_db

ALL_ROLES = set(DirectoryRole)
READ_USERS = ({"User.Read.All", "User.ReadWrite.All"}, ALL_ROLES)
WRITE_USERS = ({"User.ReadWrite.All"}, {DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.USER_ADMINISTRATOR})
READ_GROUPS = ({"Group.Read.All", "Group.ReadWrite.All"}, ALL_ROLES)
WRITE_GROUPS = ({"Group.ReadWrite.All"}, {DirectoryRole.GLOBAL_ADMINISTRATOR, DirectoryRole.USER_ADMINISTRATOR})


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # with {user}, {group}, {member} placeholders
    body: Callable[[dict[str, str]], Any] | None
    success: int
    allowed: tuple[set[str], set[DirectoryRole]]

    @property
    def route(self) -> str:
        return (self.path.replace("{user}", "{user-id}").replace("{group}", "{group-id}")
                .replace("{member}", "{directoryObject-id}").removeprefix("/v1.0"))


def _new_user(ids: dict[str, str]) -> dict[str, Any]:
    return {"accountEnabled": True, "displayName": "New", "mailNickname": "new",
            "userPrincipalName": f"new{uuid.uuid4().hex[:8]}@contoso.com", "passwordProfile": {"password": "x"}}


CASES = [
    Case("GET", "/v1.0/users", None, 200, READ_USERS),
    Case("GET", "/v1.0/users/{user}", None, 200, READ_USERS),
    Case("POST", "/v1.0/users", _new_user, 201, WRITE_USERS),
    Case("PATCH", "/v1.0/users/{user}", lambda ids: {"displayName": "Renamed", "accountEnabled": False}, 204,
         WRITE_USERS),
    Case("DELETE", "/v1.0/users/{user}", None, 204, WRITE_USERS),
    Case("GET", "/v1.0/groups", None, 200, READ_GROUPS),
    Case("GET", "/v1.0/groups/{group}", None, 200, READ_GROUPS),
    Case("POST", "/v1.0/groups", lambda ids: {"displayName": f"G {uuid.uuid4().hex[:6]}", "mailEnabled": False,
                                              "mailNickname": "g", "securityEnabled": True}, 201, WRITE_GROUPS),
    Case("PATCH", "/v1.0/groups/{group}", lambda ids: {"description": "changed"}, 204, WRITE_GROUPS),
    Case("DELETE", "/v1.0/groups/{group}", None, 204, WRITE_GROUPS),
    Case("GET", "/v1.0/groups/{group}/members", None, 200, READ_GROUPS),
    Case("POST", "/v1.0/groups/{group}/members/$ref",
         lambda ids: {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{ids['user']}"}, 204,
         WRITE_GROUPS),
    Case("DELETE", "/v1.0/groups/{group}/members/{member}/$ref", None, 204, WRITE_GROUPS),
]

PERMISSIONS = [p.value for p in Permission]
BROKEN = ["expired", "forged", "wrong-audience", "alg-none", "wrong-issuer", "tampered", "garbage"]
CALLERS = ([f"app:{p}" for p in PERMISSIONS] + ["app:(none)"] + [f"role:{r.name}" for r in DirectoryRole]
           + ["role:(none)", "anonymous"] + [f"token:{kind}" for kind in BROKEN])


def test_the_matrix_covers_every_registered_endpoint() -> None:
    from passgate.graph_api.registry import ENDPOINTS, graph_urlpatterns

    graph_urlpatterns()
    assert {(c.method, c.route) for c in CASES} == {(e.method, e.path) for e in ENDPOINTS}


def _objects(make_user: Any) -> dict[str, str]:
    target = make_user(display_name="Target")
    member = make_user(display_name="Member")
    group = group_create(display_name=f"Group {uuid.uuid4().hex[:6]}", actor=Actor.system("test"))
    group_add_member(group=group, user=member, actor=Actor.system("test"))
    return {"user": str(target.id), "group": str(group.id), "member": str(member.id)}


def _api(caller: str, client: Any, make_user: Any) -> Api:
    kind, _, name = caller.partition(":")
    if kind == "app":
        return Api(client, issue_token(*([] if name == "(none)" else [name])))
    if kind == "role":
        roles = () if name == "(none)" else (DirectoryRole[name],)
        sign_in_session(client, make_user(display_name="Caller", roles=roles))
        return Api(client)
    if kind == "token":
        app, _ = app_create(display_name="Everything", permissions=PERMISSIONS, actor=Actor.system("test"))
        return Api(client, bad_tokens(app)[name])
    return Api(client)


def _expected(case: Case, caller: str) -> int:
    kind, _, name = caller.partition(":")
    permissions, roles = case.allowed
    if kind in ("anonymous", "token"):
        return 401
    if kind == "app":
        return case.success if name in permissions else 403
    return case.success if name != "(none)" and DirectoryRole[name] in roles else 403


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.route}")
def test_matrix(client: Any, make_user: Any, case: Case, caller: str) -> None:
    ids = _objects(make_user)
    api = _api(caller, client, make_user)
    path = case.path.format(**ids)
    response = api.request(case.method, path, case.body(ids) if case.body else None)
    expected = _expected(case, caller)
    if expected == 401:
        assert error_of(response)[:2] == (401, "InvalidAuthenticationToken")
        assert response["WWW-Authenticate"].startswith('Bearer realm="passgate"')
    elif expected == 403:
        assert error_of(response) == (403, "Authorization_RequestDenied",
                                      "Insufficient privileges to complete the operation.")
    else:
        assert response.status_code == expected, response.content


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.route}")
def test_every_endpoint_is_served_under_beta_too(app_api: Any, make_user: Any, case: Case) -> None:
    ids = _objects(make_user)
    api = app_api(*PERMISSIONS)
    path = case.path.replace("/v1.0/", "/beta/").format(**ids)
    response = api.request(case.method, path, case.body(ids) if case.body else None)
    assert response.status_code == case.success, response.content
