"""Roles and administrators: the roles with their assignment counts, a role's holders, adding by user name and
removing after a confirmation, through the same services as Graph (audited; the last Global Administrator kept)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.audit.models import AuditEvent
from passgate.directory.models import RoleAssignment
from tests.admin.conftest import GA, GR, PRA, UA, post_forms, text_of

pytestmark = pytest.mark.django_db


def test_the_list_counts_assignments_and_marks_your_own(world: Any, admin_as: Any) -> None:
    client, _ = admin_as(GR)
    admin_as(GA)
    response = client.get("/admin/roles")
    assert response.status_code == 200
    page = text_of(response)
    assert "Roles and administrators" in page
    html = response.content.decode()
    assert html.count("data-role-id") == 9
    ga_row = html[html.index(f'data-role-id="{GA}"'):]
    assert '<td class="num">1</td>' in ga_row[:ga_row.index("</tr>")]
    gr_row = html[html.index(f'data-role-id="{GR}"'):]
    assert "Yours" in gr_row[:gr_row.index("</tr>")]
    assert 'href="/admin/roles" aria-current="page"' in html


def test_a_role_page_lists_holders_and_offers_changes_only_to_those_who_may(world: Any, admin_as: Any) -> None:
    reader, _ = admin_as(GR)
    page = reader.get(f"/admin/roles/{GR}")
    assert page.status_code == 200 and b"Admin" in page.content and b"/remove" not in page.content
    assert post_forms(page.content) == 1 and b'id="add-member"' not in page.content
    assert "microsoft.directory/<wbr>users/<wbr>standard/<wbr>read" in page.content.decode()
    manager, _ = admin_as(PRA)
    page = manager.get(f"/admin/roles/{GR}")
    assert b'id="add-member"' in page.content and b"/remove" in page.content


def test_add_and_remove_with_confirmation(world: Any, admin_as: Any) -> None:
    sam = world["sam"]
    client, admin = admin_as(PRA)
    response = client.post(f"/admin/roles/{UA}/members", {"upn": "  SAM@contoso.com "})
    assert response.status_code == 302 and response["Location"] == f"/admin/roles/{UA}"
    assert RoleAssignment.objects.filter(user=sam, role=UA).exists()
    assert "sam@contoso.com now holds the role User Administrator." in text_of(client.get(response["Location"]))

    confirm = client.get(f"/admin/roles/{UA}/members/{sam.pk}/remove")
    assert confirm.status_code == 200
    assert "Remove sam@contoso.com from User Administrator?" in text_of(confirm)
    assert RoleAssignment.objects.filter(user=sam, role=UA).exists()  # nothing changes until the POST
    response = client.post(f"/admin/roles/{UA}/members/{sam.pk}/remove")
    assert response.status_code == 302 and not RoleAssignment.objects.filter(user=sam, role=UA).exists()
    assert list(AuditEvent.objects.filter(actor_id=admin.pk, result="success").values_list(
        "activity", flat=True).order_by("occurred_at")) == ["role.addMember", "role.removeMember"]


@pytest.mark.parametrize(("upn", "message"), [
    ("", "Enter the user name (UPN) of the person to add."),
    ("sam", "“sam” isn't a user name"),
    ("nobody@contoso.com", "No user 'nobody@contoso.com'"),
    ("pat@contoso.com", "This person already holds the role"),
])
def test_bad_additions_change_nothing(world: Any, admin_as: Any, make_user: Any, upn: str, message: str) -> None:
    from passgate.audit.services import Actor
    from passgate.core.roles import find_role
    from passgate.directory.selectors import role_assignment_list
    from passgate.directory.services import role_assignment_create

    role_assignment_create(role=find_role(GR), user=world["pat"], actor=Actor.system("test"))
    client, _ = admin_as(GA)
    before = len(role_assignment_list())
    response = client.post(f"/admin/roles/{GR}/members", {"upn": upn})
    assert response.status_code == 400 and message in text_of(response)
    assert len(role_assignment_list()) == before


def test_the_last_global_administrator_keeps_the_role(admin_as: Any) -> None:
    client, admin = admin_as(GA, upn="ada@contoso.com")
    confirm = text_of(client.get(f"/admin/roles/{GA}/members/{admin.pk}/remove"))
    assert "This is your own role" in confirm
    response = client.post(f"/admin/roles/{GA}/members/{admin.pk}/remove")
    assert response.status_code == 400
    assert "last enabled Global Administrator" in text_of(response)
    assert RoleAssignment.objects.filter(user=admin, role=GA).exists()
    refusal = AuditEvent.objects.get(activity="role.removeMember", result="failure")
    assert refusal.reason == "last_global_admin" and refusal.actor_id == admin.pk


def test_unknown_roles_and_people_are_404(world: Any, admin_as: Any) -> None:
    client, _ = admin_as(GA)
    assert client.get(f"/admin/roles/{uuid.uuid4()}").status_code == 404
    assert client.get(f"/admin/roles/{GR}/members/{uuid.uuid4()}/remove").status_code == 404
    response = client.post(f"/admin/roles/{GR}/members/{world['sam'].pk}/remove")
    assert response.status_code == 400 and "does not hold the role Global Reader" in text_of(response)


def test_a_user_administrator_may_not_assign_roles(world: Any, admin_as: Any) -> None:
    client, admin = admin_as(UA)
    assert b'href="/admin/roles"' in client.get("/admin").content  # every admin role reads the roles
    response = client.post(f"/admin/roles/{GA}/members", {"upn": "sam@contoso.com"})
    assert response.status_code == 403
    assert not RoleAssignment.objects.filter(user=world["sam"]).exists()
    assert AuditEvent.objects.filter(activity="adminCentre.roles.write", reason="authorization_denied",
                                     actor_id=admin.pk).exists()
