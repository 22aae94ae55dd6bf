"""Groups: list and search, create, members added by user name and removed, delete (warned if the policy uses it)."""

from __future__ import annotations

from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from passgate.audit.services import Actor
from passgate.credentials.policy import policy_update
from passgate.directory.models import GroupMembership, SecurityGroup
from tests.admin.conftest import GA, GR, UA, text_of

pytestmark = pytest.mark.django_db


def test_list_and_search(world: Any, admin_as: Any) -> None:
    client, _ = admin_as(GR)
    page = text_of(client.get("/admin/groups"))
    assert "Pilot" in page and "1" in page
    assert b"data-group-id" not in client.get("/admin/groups?q=nothing").content
    assert client.get("/admin/groups?q=pil").content.count(b"data-group-id") == 1


def test_create_a_group(admin_as: Any) -> None:
    client, admin = admin_as(UA)
    response = client.post("/admin/groups/new", {"display_name": "Security keys only", "description": "FIDO2 keys"})
    group = SecurityGroup.objects.get(display_name="Security keys only")
    assert response["Location"] == f"/admin/groups/{group.pk}" and group.description == "FIDO2 keys"
    assert AuditEvent.objects.filter(activity="group.add", actor_id=admin.pk, target_id=str(group.pk)).exists()


@pytest.mark.parametrize(("name", "message"), [
    ("   ", "Name can't be empty."),
    ("pilot", "A group named 'pilot' already exists"),
])
def test_creating_a_group_with_bad_input_changes_nothing(name: str, message: str, world: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post("/admin/groups/new", {"display_name": name})
    assert response.status_code == 400 and message in text_of(response)
    assert SecurityGroup.objects.count() == 1


def test_add_and_remove_members(world: Any, admin_as: Any) -> None:
    group, sam, pat = world["group"], world["sam"], world["pat"]
    client, admin = admin_as(UA)
    response = client.post(f"/admin/groups/{group.pk}/members", {"upn": "  SAM@contoso.com "})
    assert response.status_code == 302
    assert GroupMembership.objects.filter(group=group, user=sam).exists()
    assert "sam@contoso.com was added to “Pilot”." in text_of(client.get(response["Location"]))
    response = client.post(f"/admin/groups/{group.pk}/members/{pat.pk}/remove")
    assert response.status_code == 302 and not GroupMembership.objects.filter(group=group, user=pat).exists()
    assert list(AuditEvent.objects.filter(actor_id=admin.pk).values_list("activity", flat=True).order_by(
        "occurred_at")) == ["group.addMember", "group.removeMember"]


@pytest.mark.parametrize(("upn", "message"), [
    ("", "Enter the user name (UPN) of the person to add."),
    ("nobody@contoso.com", "No user 'nobody@contoso.com'"),
    ("pat@contoso.com", "pat@contoso.com is already a member of Pilot"),
    ("not a upn", "“not a upn” isn't a user name; enter one like alias@domain."),
])
def test_adding_a_member_with_bad_input_changes_nothing(upn: str, message: str, world: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post(f"/admin/groups/{world['group'].pk}/members", {"upn": upn})
    assert response.status_code == 400
    assert message in text_of(response)
    assert GroupMembership.objects.count() == 1


def test_removing_someone_who_is_not_a_member(world: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    response = client.post(f"/admin/groups/{world['group'].pk}/members/{world['sam'].pk}/remove")
    assert response.status_code == 400 and "sam@contoso.com is not a member of Pilot" in text_of(response)


def test_delete_a_group_warns_when_the_policy_targets_it(world: Any, admin_as: Any) -> None:
    group = world["group"]
    policy_update(method_id="SoftwareOath", actor=Actor.system("test"),
                  body={"excludeTargets": [{"id": str(group.pk), "targetType": "group"}]})
    client, admin = admin_as(UA)
    assert "Authenticator app: excluded" in text_of(client.get(f"/admin/groups/{group.pk}"))
    confirm = text_of(client.get(f"/admin/groups/{group.pk}/delete"))
    assert "The authentication methods policy names this group (Authenticator app: excluded)" in confirm
    response = client.post(f"/admin/groups/{group.pk}/delete")
    assert response["Location"] == "/admin/groups" and not SecurityGroup.objects.exists()
    assert AuditEvent.objects.filter(activity="group.delete", actor_id=admin.pk).exists()
