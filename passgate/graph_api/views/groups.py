"""/groups: security groups and their members ($ref)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from rest_framework.response import Response

from passgate.core.errors import NotFound
from passgate.core.graph.devices import DEVICE
from passgate.core.graph.errors import GraphError
from passgate.core.graph.odata import Comparison, parse_object_ref
from passgate.core.graph.resources import GROUP, USER
from passgate.devices.models import Device
from passgate.devices.selectors import device_by_object_id, device_page_key
from passgate.devices.services import device_group_add, device_group_remove
from passgate.directory.models import SecurityGroup, User
from passgate.directory.selectors import (
    group_by_id,
    group_list,
    group_member_list,
    group_page_key,
    user_by_id,
    user_page_key,
)
from passgate.directory.services import (
    group_add_member,
    group_create,
    group_delete,
    group_remove_member,
    group_update,
)
from passgate.graph_api.registry import Call, endpoint, register_resource, register_schema
from passgate.graph_api.representations import entity_context, group_json, user_json
from passgate.graph_api.views.devices import device_json

register_resource(GROUP, "group")
register_schema("reference.create", {
    "type": "object", "title": "ReferenceCreate", "required": ["@odata.id"], "additionalProperties": False,
    "properties": {"@odata.id": {"type": "string", "format": "uri",
                                 "description": "https://graph.microsoft.com/v1.0/directoryObjects/{id}, or the "
                                                "same path at Passgate's origin."}},
})
register_schema("directoryObject.collection", {
    "type": "object", "title": "Collection(microsoft.graph.directoryObject)",
    "properties": {"@odata.context": {"type": "string"}, "@odata.nextLink": {"type": "string", "format": "uri"},
                   "value": {"type": "array", "items": {"anyOf": [{"$ref": "#/components/schemas/user"},
                                                                 {"$ref": "#/components/schemas/device"}]}}},
    "required": ["value"],
})
LIST_QUERY = ("$select", "$filter", "$top", "$skiptoken")


def load_group(key: str) -> SecurityGroup:
    group = group_by_id(object_id=key)
    if group is None:
        raise GraphError.not_found(key)
    return group


def referenced_users(call: Call, refs: Sequence[str], what: str) -> list[User]:
    """The users that ``…/directoryObjects/{id}`` URLs name; 404 for an object that does not exist."""
    users: list[User] = []
    for ref in refs:
        object_id = parse_object_ref(ref, hosts=call.hosts, what=what)
        user = user_by_id(object_id=object_id)
        if user is None:
            if group_by_id(object_id=object_id) is not None:
                raise GraphError.bad_request("Passgate groups have users as members; groups cannot be nested.")
            raise GraphError.not_found(object_id)
        if user not in users:
            users.append(user)
    return users


@endpoint("GET", "/groups", operation="groups.read", tag="groups", summary="List groups",
          responses={200: "group.collection"}, query=LIST_QUERY)
def groups_list(call: Call) -> Response:
    """Groups ordered by name; ``$filter`` takes ``eq`` on id, displayName, mailNickname and ``startswith()``
    on displayName and mailNickname."""
    query = call.query(GROUP, collection=True)
    rows, next_link = call.page(query, group_list, group_page_key)
    body: dict[str, object] = {"@odata.context": call.metadata(entity_context("groups", query.select, single=False))}
    if next_link:
        body["@odata.nextLink"] = next_link
    body["value"] = [group_json(g, query.select) for g in rows]
    return Response(body)


@endpoint("GET", "/groups/{group-id}", operation="groups.read", tag="groups", summary="Get a group",
          responses={200: "group"}, query=("$select",))
def groups_get(call: Call, group_id: str) -> Response:
    query = call.query(GROUP, collection=False)
    group = load_group(group_id)
    return Response({"@odata.context": call.metadata(entity_context("groups", query.select, single=True)),
                     **group_json(group, query.select)})


@endpoint("POST", "/groups", operation="groups.write", tag="groups", summary="Create a security group",
          request="group.create", responses={201: "group"})
def groups_create(call: Call) -> Response:
    """Graph requires displayName, mailEnabled, mailNickname and securityEnabled. Passgate creates security
    groups only (mailEnabled false, securityEnabled true, groupTypes []). ``members@odata.bind`` adds up to 20
    users; ``owners@odata.bind`` is checked and ignored (Passgate groups have no owners)."""
    data = GROUP.validate(call.body, mode="create")
    members = referenced_users(call, data.get("members@odata.bind", []), "members@odata.bind")
    referenced_users(call, data.get("owners@odata.bind", []), "owners@odata.bind")
    group = group_create(display_name=data["displayName"], description=data.get("description") or "",
                         mail_nickname=data["mailNickname"], members=members, actor=call.actor,
                         context=call.context)
    return Response({"@odata.context": call.metadata("groups/$entity"), **group_json(group)}, status=201)


@endpoint("PATCH", "/groups/{group-id}", operation="groups.write", tag="groups", summary="Update a group",
          request="group.update", responses={204: None})
def groups_update(call: Call, group_id: str) -> Response:
    """Changes displayName, description, mailNickname; ``members@odata.bind`` adds up to 20 members (all or
    none)."""
    group = load_group(group_id)
    data = GROUP.validate(call.body, mode="update")
    members = referenced_users(call, data.get("members@odata.bind", []), "members@odata.bind")
    group_update(group=group, display_name=data.get("displayName"),
                 description=(data["description"] or "") if "description" in data else None,
                 mail_nickname=data.get("mailNickname"), add_members=members, actor=call.actor, context=call.context)
    return Response(status=204)


@endpoint("DELETE", "/groups/{group-id}", operation="groups.write", tag="groups", summary="Delete a group",
          responses={204: None})
def groups_delete(call: Call, group_id: str) -> Response:
    group_delete(group=load_group(group_id), actor=call.actor, context=call.context)
    return Response(status=204)


@endpoint("GET", "/groups/{group-id}/members", operation="groups.read", tag="groups", summary="List members",
          responses={200: "directoryObject.collection"}, query=LIST_QUERY)
def groups_members_list(call: Call, group_id: str) -> Response:
    """The group's members, each with ``@odata.type``: its users (by user name), then its devices. ``$filter``
    and ``$select`` name user properties; with a ``$filter`` only users are listed."""
    group = load_group(group_id)
    query = call.query(USER, collection=True)
    rows, next_link = call.page(query, _members, _member_key, group=group)
    body: dict[str, object] = {"@odata.context": call.metadata("directoryObjects")}
    if next_link:
        body["@odata.nextLink"] = next_link
    device_select = tuple(name for name in query.select if name in {p.name for p in DEVICE.props})
    body["value"] = [user_json(m, query.select, with_type=True) if isinstance(m, User)
                     else device_json(m, device_select or (("id", "displayName") if query.select else ()))
                     for m in rows]
    return Response(body)


def _member_key(member: User | Device) -> str:
    return f"u:{user_page_key(member)}" if isinstance(member, User) else f"d:{device_page_key(member)}"


def _members(*, group: SecurityGroup, where: Sequence[Comparison] = (), after: str | None = None,
             limit: int | None = None) -> list[User | Device]:
    """Users (by user name) then devices (by id), continuing after a ``_member_key``."""
    rows: list[User | Device] = []
    if after is None or after.startswith("u:"):
        rows += group_member_list(group=group, where=where, after=after[2:] if after else None, limit=limit)
        after = None
    if where or (limit is not None and len(rows) >= limit):
        return rows
    devices = group.device_members.order_by("id")
    if after is not None and after.startswith("d:"):
        devices = devices.filter(id__gt=uuid.UUID(after[2:]))
    rows += list(devices[: None if limit is None else limit - len(rows)])
    return rows


@endpoint("POST", "/groups/{group-id}/members/$ref", operation="groups.write", tag="groups",
          summary="Add a member", request="reference.create", responses={204: None},
          operation_id="groups.members.ref.add")
def groups_members_add(call: Call, group_id: str) -> Response:
    """Body ``{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}`` (or Passgate's origin).
    400 if the user already is a member, 404 if they do not exist."""
    group = load_group(group_id)
    body = call.body
    if not isinstance(body, dict):
        raise GraphError.malformed("The request body must be a JSON object.")
    for name in body:
        if name != "@odata.id":
            raise GraphError.bad_request(f"Property '{name}' does not exist as a declared property or extension "
                                         "property. Send only '@odata.id'.")
    if "@odata.id" not in body:
        raise GraphError.bad_request("Property '@odata.id' is required: the URL of the directory object to add.")
    object_id = parse_object_ref(body["@odata.id"], hosts=call.hosts, what="@odata.id")
    device = device_by_object_id(object_id)
    if device is not None:  # a device in a group of devices (configuration profiles are assigned to them)
        if group.device_members.filter(pk=device.pk).exists():
            raise GraphError.bad_request(f"{device.display_name} is already a member of {group.display_name}.")
        device_group_add(device=device, group=group, actor=call.actor, context=call.context)
        return Response(status=204)
    (user,) = referenced_users(call, [body["@odata.id"]], "@odata.id")
    group_add_member(group=group, user=user, actor=call.actor, context=call.context)
    return Response(status=204)


@endpoint("DELETE", "/groups/{group-id}/members/{directoryObject-id}/$ref", operation="groups.write",
          tag="groups", summary="Remove a member", responses={204: None}, operation_id="groups.members.ref.remove")
def groups_members_remove(call: Call, group_id: str, directory_object_id: str) -> Response:
    group = load_group(group_id)
    user = user_by_id(object_id=directory_object_id)
    device = None if user is not None else device_by_object_id(directory_object_id)
    if user is None and device is None:
        raise GraphError.not_found(directory_object_id)
    try:
        if user is not None:
            group_remove_member(group=group, user=user, actor=call.actor, context=call.context)
        elif device is not None:
            device_group_remove(device=device, group=group, actor=call.actor, context=call.context)
    except NotFound:
        raise GraphError.not_found(directory_object_id) from None
    return Response(status=204)
