"""The admin centre in a real browser (Playwright + Debian Chromium, virtual authenticator): passkeys for one group
only, self-service set-up off, and deleting a user's passkey. Screenshots for the docs go to pytest's tmp path;
docs/screenshots/admin-*.png are copies made by hand from one run:
    pytest tests/admin/test_browser_admin.py --basetemp=/tmp/shots  (then copy /tmp/shots/*/admin-*.png)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from passgate.audit.services import Actor
from passgate.credentials.models import Passkey
from passgate.credentials.policy import policy_update
from passgate.credentials.policy_selectors import current_policy
from passgate.directory.models import DirectoryRole
from passgate.directory.services import group_add_member, group_create, user_set_enabled
from tests.browser.helpers import audit_rows, signed_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = b"\x89PNG\r\n\x1a\n"
SYSTEM = Actor.system("test")


def shot(tab: Any, path: Path) -> None:
    tab.page.screenshot(path=str(path), full_page=True, animations="disabled")
    assert path.read_bytes().startswith(PNG)


def sign_in_as_admin(tab: Any, make_user: Any, issue_tap: Any, upn: str, display_name: str, *,
                     role: DirectoryRole = DirectoryRole.GLOBAL_ADMINISTRATOR) -> Any:
    """An administrator adds a passkey with a pass, signs out, and signs back in with the passkey (autofill)."""
    admin = make_user(upn, display_name, roles=(role,))
    tab.add_authenticator()
    tab.tap_sign_in(upn, issue_tap(admin))
    tab.wait_for_path("/security-info")
    assert tab.page.locator("#admin-centre-link").count() == 0  # a pass session never reaches the admin centre
    tab.add_passkey("Admin security key")
    tab.page.wait_for_selector("text=Passkey “Admin security key” added.")
    tab.sign_out()
    tab.wait_for_path("/security-info")
    tab.page.click("#admin-centre-link")
    tab.wait_for_path("/admin")
    return admin


def test_passkeys_for_one_group_only_with_the_impact_preview(new_tab: Any, enroll: Any, make_user: Any,
                                                             issue_tap: Any, tmp_path: Path) -> None:
    admin_tab = new_tab()
    admin = sign_in_as_admin(admin_tab, make_user, issue_tap, "ada@contoso.com", "Ada Lovelace")
    pilot = group_create(display_name="Passkey pilot", actor=SYSTEM)
    group_add_member(group=pilot, user=admin, actor=SYSTEM)
    ola, _ = enroll(new_tab(), "ola@contoso.com", "Ola Nordmann", passkey_name="Ola's phone", backup_eligible=True)

    page = admin_tab.page
    page.click("text=Authentication methods")
    page.click("text=Passkey (FIDO2)")
    admin_tab.wait_for_path("/admin/methods/passkey")
    page.uncheck("#include-all_users")
    page.check(f"#include-{pilot.pk}")
    page.click("#review")
    page.wait_for_selector("#impact")
    assert page.inner_text("#impact-passkeys") == "1" and page.inner_text("#impact-users") == "1"
    impact = page.inner_text("#impact")
    assert "of 2 registered passkeys would no longer sign in" in impact and "person affected" in impact
    assert "ola@contoso.com" in page.inner_text("table.examples")
    shot(admin_tab, tmp_path / "admin-impact-preview.png")
    page.click("#save")
    page.wait_for_selector("text=Passkey (FIDO2) settings saved.")
    assert page.is_checked(f"#include-{pilot.pk}") and not page.is_checked("#include-all_users")
    assert audit_rows(activity="authenticationMethodsPolicy.update", actor_id=admin.pk) == [
        ("authenticationMethodsPolicy.update", "success", "")]

    # Someone outside the group, with a pass, can't add a passkey: Security info says why.
    nia = make_user("nia@contoso.com", "Nia Example")
    outsider = new_tab()
    outsider.add_authenticator()
    outsider.tap_sign_in("nia@contoso.com", issue_tap(nia))
    outsider.wait_for_path("/security-info")
    refusal = outsider.page.locator("#situation[data-situation=passkey-not-allowed]")
    assert refusal.inner_text() == ("Your organisation's passkey policy doesn't include you, so you can't add a "
                                    "passkey. Ask your administrator.")
    assert outsider.page.locator("#add-passkey").count() == 0
    shown = outsider.page.inner_text("main")  # one message: no "Add a passkey now" next to it (issue 14 item 8)
    assert outsider.page.locator("p.notice, p.warning").count() == 1
    assert "Add a passkey now" not in shown and "Add one" not in shown
    shot(outsider, tmp_path / "security-info-outside-policy.png")
    assert not Passkey.objects.filter(user=nia).exists() and Passkey.objects.filter(user=ola).exists()


def test_self_service_off_hides_add_passkey(new_tab: Any, make_user: Any, issue_tap: Any, tmp_path: Path) -> None:
    admin_tab = new_tab()
    sign_in_as_admin(admin_tab, make_user, issue_tap, "grace@contoso.com", "Grace Hopper",
                     role=DirectoryRole.AUTHENTICATION_POLICY_ADMINISTRATOR)
    policy_update(method_id="fido2", actor=SYSTEM, body={"passkeyProfiles": [
        {"id": "00000000-0000-0000-0000-000000000001"},
        {"name": "Security keys only", "passkeyTypes": "deviceBound", "attestationEnforcement": "disabled",
         "keyRestrictions": {"isEnforced": True, "enforcementType": "allow",
                             "aaGuids": ["cb69481e-8ff7-4039-93ec-0a2729a154a8",
                                         "ee882879-721c-4913-9775-3dfcce97072a"]}}]})
    page = admin_tab.page
    admin_tab.goto("/admin/methods/passkey")
    page.click("#tab-configure")
    admin_tab.wait_for_path("/admin/methods/passkey?tab=configure")
    assert page.is_checked("#self-service")
    shot(admin_tab, tmp_path / "admin-passkey-configure.png")
    page.uncheck("#self-service")
    page.click("#review")
    page.wait_for_selector("#impact")
    assert page.inner_text("#impact-passkeys") == "0"
    page.click("#save")
    page.wait_for_selector("text=Passkey (FIDO2) settings saved.")
    assert not page.is_checked("#self-service")
    keys = current_policy().fido2.passkey_profiles[1]  # the other profile came back from the preview unchanged
    assert keys.name == "Security keys only" and len(keys.key_restrictions.aa_guids) == 2

    bo = make_user("bo@contoso.com", "Bo Example")
    user_tab = new_tab()
    user_tab.add_authenticator()
    user_tab.tap_sign_in("bo@contoso.com", issue_tap(bo))
    user_tab.wait_for_path("/security-info")
    assert user_tab.page.locator("#add-passkey").count() == 0
    assert user_tab.page.inner_text("#situation[data-situation=passkey-not-allowed]") == (
        "Your organisation doesn't let people add passkeys themselves. Ask your administrator to add one for you.")


def test_an_administrator_deletes_a_users_passkey_and_it_no_longer_signs_in(new_tab: Any, enroll: Any,
                                                                           make_user: Any, issue_tap: Any,
                                                                           tmp_path: Path) -> None:
    user_tab = new_tab()
    cy, passkey = enroll(user_tab, "cy@contoso.com", "Cy Young", passkey_name="Cy's laptop")
    user_tab.sign_out()
    user_tab.wait_for_path("/security-info")  # signed in with the passkey (autofill)

    admin_tab = new_tab()
    admin = sign_in_as_admin(admin_tab, make_user, issue_tap, "rosalind@contoso.com", "Rosalind Franklin")
    # A few more people, so the users page looks like a directory.
    for upn, name, roles in (("alan@contoso.com", "Alan Turing", (DirectoryRole.USER_ADMINISTRATOR,)),
                             ("barbara@contoso.com", "Barbara Liskov", ()),
                             ("edsger@contoso.com", "Edsger Dijkstra", (DirectoryRole.GLOBAL_READER,)),
                             ("katherine@contoso.com", "Katherine Johnson", ())):
        make_user(upn, name, roles=roles)
    user_set_enabled(user=make_user("dennis@contoso.com", "Dennis Ritchie"), enabled=False, actor=SYSTEM)
    page = admin_tab.page
    page.click("nav.admin-nav >> text=Users")
    admin_tab.wait_for_path("/admin/users")
    shot(admin_tab, tmp_path / "admin-users.png")
    page.fill("#q", "young")
    page.click("form.search button")
    admin_tab.wait_for_path("/admin/users?q=young")
    assert page.locator("tr[data-user-id]").count() == 1
    page.click("text=Cy Young")
    admin_tab.wait_for_path(f"/admin/users/{cy.pk}")
    row = page.locator(f"tr[data-passkey-id='{passkey.pk}']")
    assert "Signs in" in row.inner_text() and str(passkey.aaguid) in row.inner_text()
    shot(admin_tab, tmp_path / "admin-user.png")
    row.locator("text=Delete").click()
    admin_tab.wait_for_path(f"/admin/users/{cy.pk}/passkeys/{passkey.pk}/delete")
    assert "This is their last sign-in method" in page.inner_text("section.card")
    page.click("#confirm-delete")
    page.wait_for_selector("text=of cy@contoso.com was deleted. It can't sign in any more.")
    assert not Passkey.objects.filter(pk=passkey.pk).exists()
    assert audit_rows(activity="passkey.delete", actor_id=admin.pk) == [("passkey.delete", "success", "")]

    # The credential is still on Cy's authenticator, but it no longer signs in.
    user_tab.sign_out()
    assert user_tab.wait_autofill_settled() == "ended"
    user_tab.page.locator("#signin-error").filter(has_text="This passkey isn't registered here.").wait_for()
    assert signed_out(user_tab)
    assert audit_rows(activity="passkey.signIn")[-1] == ("passkey.signIn", "failure", "unknown_credential")


def test_model_picker_rules_from_metadata_and_the_untrusted_models_switch(new_tab: Any, make_user: Any,
                                                                         issue_tap: Any, tmp_path: Path) -> None:
    tab = new_tab()
    sign_in_as_admin(tab, make_user, issue_tap, "ada@contoso.com", "Ada Lovelace")
    page = tab.page
    tab.goto("/admin/methods/passkey?tab=configure")
    page.click("#add-profile summary")
    page.fill("#new-name", "Certified security keys")
    page.select_option("#new-types", "deviceBound")
    page.select_option("#new-attestation", "registrationOnly")
    page.check("input[name=new-kr-enforced]")
    page.select_option("#new-kr-type", "block")
    # The picker: type part of a name, take it, "Add to list" puts it in the list (JavaScript).
    page.fill("#new-pick", "Apple Passwords")
    page.click("button[data-add-model=new]")
    assert page.input_value("#new-aaguids") == "Apple Passwords" and page.input_value("#new-pick") == ""
    page.fill("#new-pick", "apple passwords")
    page.click("button[data-add-model=new]")
    assert page.input_value("#new-aaguids") == "Apple Passwords"  # not twice
    page.select_option("#new-min-level", "L2")
    page.check("input[name=new-hardware]")
    shot(tab, tmp_path / "admin-profile-rules.png")
    page.click("#review")
    page.wait_for_selector("text=rules from FIDO metadata")
    with page.expect_navigation():
        page.click("#save")
    profile = current_policy().fido2.passkey_profiles[1]
    assert profile.key_restrictions.aa_guids == ("fbfc3007-154e-4ecc-8c0b-6e020557d7bd",)
    assert profile.key_restrictions.enforcement_type.value == "block"
    assert profile.metadata_rules.require_hardware_key_protection

    tab.goto("/admin/reports/untrusted-models")
    page.check("#refuse")
    page.click("#save")
    page.wait_for_selector("text=Passkeys of untrusted models are now refused at sign-in.")
    assert current_policy().fido2.refuse_flagged_models_at_sign_in
    shot(tab, tmp_path / "admin-untrusted-models.png")


def test_conditional_access_pages_and_what_if(new_tab: Any, enroll: Any, make_user: Any, issue_tap: Any,
                                              tmp_path: Path) -> None:
    tab = new_tab()
    sign_in_as_admin(tab, make_user, issue_tap, "ada@contoso.com", "Ada Lovelace")
    pilot = group_create(display_name="Payroll team", actor=SYSTEM)
    ola, _ = enroll(new_tab(), "ola@contoso.com", "Ola Nordmann", passkey_name="Ola's phone", backup_eligible=True)
    group_add_member(group=pilot, user=ola, actor=SYSTEM)
    page = tab.page
    page.click("text=Conditional Access")
    tab.wait_for_path("/admin/conditional-access")
    page.click("#new-policy")
    page.fill("#name", "Payroll: phishing-resistant sign-in")
    page.check("input[name=users][value=selected]")
    page.check(f"input[name=include_groups][value='{pilot.pk}']")
    page.fill("#exclude_users", "ada@contoso.com")
    page.select_option("#strength", "00000000-0000-0000-0000-000000000004")
    shot(tab, tmp_path / "admin-ca-policy.png")
    with page.expect_navigation():
        page.click("#save")
    page.wait_for_selector("text=Policy “Payroll: phishing-resistant sign-in” was created (Report-only).")
    shot(tab, tmp_path / "admin-ca-list.png")
    page.click("text=What if")
    page.fill("#user", "ola@contoso.com")
    page.select_option("#app", label="Passgate admin centre")
    with page.expect_navigation():
        page.click("#what-if")
    page.select_option("#method", "tap")
    with page.expect_navigation():
        page.click("#what-if")
    result = page.locator("#what-if-result").inner_text()
    assert "Allowed" in result and "Report-only: would not be met" in result
    shot(tab, tmp_path / "admin-ca-what-if.png")
