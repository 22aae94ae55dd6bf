"""The report of people one lost passkey away from a helpdesk call (issue 14 item 14)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from passgate.directory.models import DirectoryRole

pytestmark = pytest.mark.django_db

ICLOUD = uuid.UUID("fbfc3007-154e-4ecc-8c0b-6e020557d7bd").bytes
GOOGLE = uuid.UUID("ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4").bytes
YUBIKEY = uuid.UUID("cb69481e-8ff7-4039-93ec-0a2729a154a8").bytes
URL = "/admin/reports/passkey-redundancy"


def rows(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-user-id="([^"]+)">', html)


def test_the_report_lists_single_and_one_provider_passkeys_and_no_one_else(admin_as: Any, make_user: Any,
                                                                          add_passkey: Any) -> None:
    one = make_user("one@contoso.com", "One Key")
    add_passkey(one, synced=False, aaguid=YUBIKEY)
    apple = make_user("apple@contoso.com", "Apple Only")
    add_passkey(apple, aaguid=ICLOUD)
    add_passkey(apple, aaguid=ICLOUD)
    mixed = make_user("mixed@contoso.com", "Two Providers")
    add_passkey(mixed, aaguid=ICLOUD)
    add_passkey(mixed, aaguid=GOOGLE)
    keys = make_user("keys@contoso.com", "Two Keys")
    add_passkey(keys, synced=False, aaguid=YUBIKEY)
    add_passkey(keys, synced=False, aaguid=YUBIKEY)
    make_user("none@contoso.com", "No Passkey")

    client, _ = admin_as(DirectoryRole.AUTHENTICATION_ADMINISTRATOR.value)
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert rows(html) == [str(apple.pk), str(one.pk)]  # by user principal name
    assert "<strong>2</strong> people" in html and "One passkey" in html and "Every passkey synced by" in html


def test_people_without_a_reading_role_are_refused(admin_as: Any) -> None:
    client, _ = admin_as(DirectoryRole.APPLICATION_ADMINISTRATOR.value)
    assert client.get(URL).status_code == 403


def test_an_empty_report_says_everyone_is_covered(admin_as: Any) -> None:
    client, _ = admin_as(DirectoryRole.GLOBAL_ADMINISTRATOR.value)
    assert "Everyone with a passkey has a second one" in client.get(URL).content.decode()
