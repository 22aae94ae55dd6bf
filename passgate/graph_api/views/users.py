"""/users: list, get (by id or userPrincipalName), create, update, delete, revokeSignInSessions (also /me)."""

from __future__ import annotations

from rest_framework.response import Response

from passgate.core.errors import NotFound
from passgate.core.graph.authz import UserCaller
from passgate.core.graph.errors import ME_NEEDS_DELEGATION, GraphError
from passgate.core.graph.resources import GROUP, USER
from passgate.core.roles import definitions
from passgate.directory.models import User
from passgate.directory.selectors import user_count, user_groups, user_list, user_page_key
from passgate.directory.services import (
    user_create,
    user_delete,
    user_get,
    user_revoke_sign_in_sessions,
    user_roles,
    user_update,
)
from passgate.graph_api.registry import Call, endpoint, register_resource, register_schema
from passgate.graph_api.representations import entity_context, group_json, user_json
from passgate.graph_api.views.roles import directory_role_json

register_resource(USER, "user")
register_schema("memberOf.collection", {
    "type": "object", "title": "Collection(microsoft.graph.directoryObject)",
    "description": "Groups and directory roles, each with its @odata.type.",
    "properties": {"@odata.context": {"type": "string"},
                   "value": {"type": "array", "items": {"anyOf": [{"$ref": "#/components/schemas/group"},
                                                                  {"$ref": "#/components/schemas/directoryRole"}]}}},
    "required": ["value"],
})
register_schema("Edm.Boolean", {
    "type": "object", "title": "Edm.Boolean", "description": "An action's Boolean result.",
    "properties": {"@odata.context": {"type": "string"}, "value": {"type": "boolean"}},
    "required": ["value"],
})

# Graph's sensitive user properties: changing them needs a role that outranks the target's roles (authz).
SENSITIVE = frozenset({"accountEnabled", "userPrincipalName"})
LIST_QUERY = ("$select", "$filter", "$top", "$skiptoken", "$orderby", "$count", "$search")


def _my_id(call: Call) -> str:
    """The signed-in person's id; an app token is Graph's 400 BadRequest, audited."""
    if not isinstance(call.caller, UserCaller):
        error = GraphError.malformed(ME_NEEDS_DELEGATION)
        call.refused(error, where="/me")
        raise error
    return call.caller.user_id


def load_user(key: str) -> User:
    """A user by object id or userPrincipalName, or Graph's 404."""
    try:
        return user_get(upn_or_id=key)
    except NotFound:
        raise GraphError.not_found(key) from None


@endpoint("GET", "/users", operation="users.read", tag="users", summary="List users",
          responses={200: "user.collection"}, query=LIST_QUERY)
def users_list(call: Call) -> Response:
    """Users ordered by userPrincipalName (or ``$orderby`` displayName or userPrincipalName, asc or desc).
    ``$filter`` takes ``eq`` and ``in`` on id, userPrincipalName, displayName, mailNickname and accountEnabled,
    ``startswith()`` on the strings, and ``ne`` (with ``ConsistencyLevel: eventual`` and ``$count=true``), joined
    with ``and``; ``$search="displayName:text"`` (word prefixes; ``ConsistencyLevel: eventual``); ``$count=true``
    with ``ConsistencyLevel: eventual`` adds ``@odata.count``; ``$top`` 1-999 (default 100) pages with
    ``@odata.nextLink``."""
    query = call.query(USER, collection=True, supported=LIST_QUERY)
    rows, next_link = call.page(query, user_list, lambda u: user_page_key(u, query.orderby), order=query.orderby,
                                search=query.search)
    body: dict[str, object] = {"@odata.context": call.metadata(entity_context("users", query.select, single=False))}
    if query.count:
        body["@odata.count"] = user_count(where=query.filter.clauses if query.filter else (), search=query.search)
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = [user_json(u, query.select) for u in rows]
    return Response(body)


@endpoint("GET", "/users/{user-id}", operation="users.read", tag="users", summary="Get a user",
          responses={200: "user"}, query=("$select",))
def users_get(call: Call, user_id: str) -> Response:
    """``{user-id}`` is the object id or the userPrincipalName."""
    query = call.query(USER, collection=False)
    user = load_user(user_id)
    return Response({"@odata.context": call.metadata(entity_context("users", query.select, single=True)),
                     **user_json(user, query.select)})


@endpoint("GET", "/me", operation=None, tag="me", summary="Get the signed-in user", responses={200: "user"},
          query=("$select",), operation_id="me.get")
def me_get(call: Call) -> Response:
    """The signed-in person (delegated calls only: an app token is Graph's 400 BadRequest)."""
    query = call.query(USER, collection=False)
    return Response({"@odata.context": call.metadata(entity_context("users", query.select, single=True)),
                     **user_json(load_user(_my_id(call)), query.select)})


@endpoint("GET", "/users/{user-id}/memberOf", operation="users.read", tag="users",
          summary="List the groups and directory roles a user is a direct member of",
          responses={200: "memberOf.collection"})
def users_member_of(call: Call, user_id: str) -> Response:
    """Security groups, then directory roles (each with its ``@odata.type``), in one page. Passgate takes no
    query options here (400 naming them)."""
    call.query(USER, collection=True, supported=())
    user = load_user(user_id)
    groups = [{"@odata.type": GROUP.odata_type, **group_json(g)} for g in user_groups(user=user)]
    held = user_roles(user=user)
    roles = [directory_role_json(r) for r in definitions() if r.id in held]
    return Response({"@odata.context": call.metadata("directoryObjects"), "value": groups + roles})


@endpoint("POST", "/users", operation="users.write", tag="users", summary="Create a user",
          request="user.create", responses={201: "user"})
def users_create(call: Call) -> Response:
    """Graph requires accountEnabled, displayName, mailNickname, userPrincipalName and passwordProfile.
    Passgate has no passwords: passwordProfile is optional, accepted and ignored. Give the new user a Temporary
    Access Pass to add their first passkey."""
    data = USER.validate(call.body, mode="create")
    user = user_create(upn=data["userPrincipalName"], display_name=data["displayName"],
                       mail_nickname=data["mailNickname"], account_enabled=data["accountEnabled"],
                       actor=call.actor, context=call.context)
    return Response({"@odata.context": call.metadata("users/$entity"), **user_json(user)}, status=201)


@endpoint("PATCH", "/users/{user-id}", operation="users.write", tag="users", summary="Update a user",
          request="user.update", responses={204: None})
def users_update(call: Call, user_id: str) -> Response:
    """Changes displayName, userPrincipalName, accountEnabled, mailNickname. Changing accountEnabled or
    userPrincipalName of an administrator needs a role that may manage theirs (Graph's sensitive actions)."""
    user = load_user(user_id)
    data = USER.validate(call.body, mode="update")
    if data.keys() & SENSITIVE:
        call.authorize("users.write", target_roles=user_roles(user=user))
    user_update(user=user, display_name=data.get("displayName"), upn=data.get("userPrincipalName"),
                account_enabled=data.get("accountEnabled"), mail_nickname=data.get("mailNickname"),
                actor=call.actor, context=call.context)
    return Response(status=204)


@endpoint("DELETE", "/users/{user-id}", operation="users.write", tag="users", summary="Delete a user",
          responses={204: None})
def users_delete(call: Call, user_id: str) -> Response:
    """Deletes the user at once with their passkeys and passes (Passgate keeps no deleted-items container)."""
    user = load_user(user_id)
    call.authorize("users.write", target_roles=user_roles(user=user))
    user_delete(user=user, actor=call.actor, context=call.context)
    return Response(status=204)


def _revoked(call: Call) -> Response:
    """Graph's answer: ``{"@odata.context": ".../$metadata#Edm.Boolean", "value": true}``."""
    return Response({"@odata.context": call.metadata("Edm.Boolean"), "value": True})


@endpoint("POST", "/users/{user-id}/revokeSignInSessions", operation="users.revokeSessions", tag="users",
          summary="Revoke a user's sign-in sessions", responses={200: "Edm.Boolean"})
def users_revoke_sign_in_sessions(call: Call, user_id: str) -> Response:
    """Ends every browser session of the user and every OpenID Connect authorization apps hold for them (refresh
    and access tokens): they sign in again everywhere. Sets signInSessionsValidFromDateTime. At once, not after
    Graph's "few minutes". Revoking an administrator's sessions needs a role that may manage theirs (Graph's
    sensitive actions). No request body."""
    user = load_user(user_id)
    call.authorize("users.revokeSessions", target_roles=user_roles(user=user))
    user_revoke_sign_in_sessions(user=user, actor=call.actor, context=call.context)
    return _revoked(call)


@endpoint("POST", "/me/revokeSignInSessions", operation=None, tag="me", summary="Revoke my sign-in sessions",
          responses={200: "Edm.Boolean"}, operation_id="me.revokeSignInSessions")
def me_revoke_sign_in_sessions(call: Call) -> Response:
    """Signs the calling person out everywhere, this session included (delegated calls only)."""
    user_revoke_sign_in_sessions(user=load_user(_my_id(call)), actor=call.actor, context=call.context)
    return _revoked(call)
