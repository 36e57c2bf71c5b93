"""The Salesforce access page: readers see, administrators edit, stale edits are refused, every change is audited."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from console.models import AuditActivity, AuditEntry
from mappings.access.models import AccessSettings, AppRoleAccess, FreezeLeavers
from mappings.graph_json import export_object_mapping, import_object_mapping
from tests.access.helpers import give, item, refresh

pytestmark = pytest.mark.django_db


def page(app):
    return reverse("salesforce_access", args=[app.slug])


def edit_url(app, role):
    return reverse("access_role_edit", args=[app.slug]) + f"?role={role}"


def test_the_page_lists_the_app_roles_and_their_access(admin_client, configured_app):
    refresh(configured_app)
    give(configured_app, "Sales Representative", "Sales_Console", "EMEA_Sales", user_role="Sales_Rep")
    html = admin_client.get(page(configured_app)).content.decode()
    assert (
        "Sales Representative" in html
        and "Permission set: Sales Console" in html
        and "Public group: EMEA Sales" in html
    )
    assert "Sales Rep" in html and "Support Agent" in html  # every app role of the enterprise application
    assert "Refresh from Salesforce" in html


def test_refresh_button_fills_the_pickers_and_is_audited(admin_client, configured_app):
    response = admin_client.post(reverse("access_refresh", args=[configured_app.slug]), follow=True)
    assert "Refresh from Salesforce:" in response.content.decode()
    audit = AuditEntry.objects.get(activity=AuditActivity.UPDATE_ACCESS)
    assert audit.changed_fields == ["catalogue"] and "new item(s)" in audit.detail
    html = admin_client.get(edit_url(configured_app, "Support Agent")).content.decode()
    assert "Permission set: Reports Builder" in html and "Queue: Support Tier 1" in html


def test_refresh_without_credentials_says_what_to_fill_in(admin_client, application):
    response = admin_client.post(reverse("access_refresh", args=[application.slug]), follow=True)
    assert "fill in the Salesforce" in response.content.decode()


def test_saving_a_role_stores_its_access_and_bumps_its_version(admin_client, configured_app):
    refresh(configured_app)
    form = {
        "access-edit_version": 1,
        "access-precedence": 3,
        "access-profile_name": "",
        "access-user_role": item(configured_app, "Sales_Rep").pk,
        "access-items": [item(configured_app, "Sales_Console").pk, item(configured_app, "EMEA_Sales").pk],
        "access-feature_flags": ["UserPermissionsMarketingUser"],
    }
    response = admin_client.post(edit_url(configured_app, "Sales Representative"), form)
    assert response.status_code == 302
    row = AppRoleAccess.objects.get(application=configured_app, role_value="Sales Representative")
    assert row.edit_version == 1 and row.precedence == 3 and row.feature_flags == ["UserPermissionsMarketingUser"]
    assert {i.name for i in row.items.all()} == {"Sales_Console", "EMEA_Sales"}
    audit = AuditEntry.objects.filter(activity=AuditActivity.UPDATE_ACCESS).latest("created_at")
    assert "items" in audit.changed_fields and "2 added" in audit.detail
    form["access-items"] = [item(configured_app, "Sales_Console").pk]
    assert admin_client.post(edit_url(configured_app, "Sales Representative"), form).status_code == 302
    row.refresh_from_db()
    assert row.edit_version == 2 and row.items.count() == 1


def test_a_stale_save_is_refused_and_changes_nothing(admin_client, configured_app):
    refresh(configured_app)
    row = give(configured_app, "Sales Representative", "Sales_Console")
    row.edit_version = 5
    row.save()
    form = {"access-edit_version": 4, "access-precedence": 1, "access-items": [item(configured_app, "EMEA_Sales").pk]}
    response = admin_client.post(edit_url(configured_app, "Sales Representative"), form)
    assert response.status_code == 409
    assert "Not saved: it changed after the page was loaded." in response.content.decode()
    assert [i.name for i in row.items.all()] == ["Sales_Console"]


def test_an_item_deleted_in_the_org_cannot_be_newly_chosen(admin_client, configured_app, emu):
    refresh(configured_app)
    emu.control.delete_access_item("Reports_Builder")
    give(configured_app, "Support Agent", "Reports_Builder")
    refresh(configured_app)
    form = {
        "access-edit_version": 1,
        "access-precedence": 1,
        "access-items": [item(configured_app, "Reports_Builder").pk],
    }
    response = admin_client.post(edit_url(configured_app, "Sales Representative"), form)
    assert response.status_code == 400 and "no longer exist in Salesforce" in response.content.decode()
    html = admin_client.get(page(configured_app)).content.decode()
    assert "Deleted in Salesforce" in html and "Reports Builder" in html


def test_reader_sees_but_cannot_save(reader_client, configured_app):
    refresh(configured_app)
    assert "Read only" in reader_client.get(page(configured_app)).content.decode()
    response = reader_client.post(edit_url(configured_app, "Sales Representative"), {"access-edit_version": 1})
    assert response.status_code == 403
    assert not AppRoleAccess.objects.exists()


def test_leaver_settings_and_outside_removal_are_saved_and_audited(admin_client, configured_app):
    refresh(configured_app)
    admin_client.get(page(configured_app))
    response = admin_client.post(
        reverse("access_settings_save", args=[configured_app.slug]),
        {"settings-edit_version": 1, "settings-revoke_on_deactivation": "on", "settings-freeze_leavers": "before"},
    )
    assert response.status_code == 302
    settings = AccessSettings.objects.get(application=configured_app)
    assert settings.freeze_leavers == FreezeLeavers.BEFORE and settings.edit_version == 2
    group = item(configured_app, "EMEA_Sales")
    admin_client.post(reverse("access_item_outside", args=[configured_app.slug, group.pk]), {"remove_unmanaged": "on"})
    group.refresh_from_db()
    assert group.remove_unmanaged is True
    assert AuditEntry.objects.filter(activity=AuditActivity.UPDATE_ACCESS).count() == 2


def test_a_change_of_access_makes_the_next_cycle_a_full_one(admin_client, configured_app):
    refresh(configured_app)
    before = configured_app.user_mapping.version
    group = item(configured_app, "EMEA_Sales")
    admin_client.post(reverse("access_item_outside", args=[configured_app.slug, group.pk]), {"remove_unmanaged": "on"})
    configured_app.user_mapping.refresh_from_db()
    assert configured_app.user_mapping.version == before + 1


def test_new_applications_take_the_profile_by_precedence_and_an_entra_import_turns_it_off(configured_app, admin_client):
    settings = AccessSettings.objects.get(application=configured_app)
    assert settings.profile_by_precedence is True
    document = export_object_mapping(configured_app.user_mapping)
    import_object_mapping(configured_app.user_mapping, document)
    settings.refresh_from_db()
    assert settings.profile_by_precedence is False


def test_two_administrators_edit_one_app_role(admin_client, configured_app, django_user_model):
    """Alice saves the role's items; Bob, from the page he opened before, is refused with her items beside his, and
    his choice comes back ticked in the form."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from console.permissions import APPLICATION_ADMINISTRATOR

    refresh(configured_app)
    give(configured_app, "Sales Representative", "Sales_Console")
    bob = Client()
    user = django_user_model.objects.create_user("bob.admin", password="x" * 12)
    user.groups.add(Group.objects.get(name=APPLICATION_ADMINISTRATOR))
    bob.force_login(user)
    url = edit_url(configured_app, "Sales Representative")
    seen_by_bob = AppRoleAccess.objects.get(role_value="Sales Representative").edit_version
    alices = {
        "access-edit_version": seen_by_bob,
        "access-precedence": 1,
        "access-items": [item(configured_app, "EMEA_Sales").pk],
    }
    assert admin_client.post(url, alices).status_code == 302
    bobs = {
        "access-edit_version": seen_by_bob,
        "access-precedence": 1,
        "access-items": [item(configured_app, "Reports_Builder").pk],
    }
    refused = bob.post(url, bobs)
    html = refused.content.decode()
    assert refused.status_code == 409 and "<strong>alice.admin</strong> saved at" in html
    assert "Sales Console" in html and "EMEA Sales" in html  # what Bob opened, and what Alice saved
    assert f'value="{item(configured_app, "Reports_Builder").pk}" id="id_access-items_' in html
    assert re.search(rf'value="{item(configured_app, "Reports_Builder").pk}"[^>]*checked', html)
    assert [i.name for i in AppRoleAccess.objects.get(role_value="Sales Representative").items.all()] == ["EMEA_Sales"]
