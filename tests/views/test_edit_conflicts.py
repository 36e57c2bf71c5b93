"""Two administrators, one object: A saves, then B saves from the page B opened before A's save. B is refused with
A's change beside B's (who, when, field by field; a secret only "changed"), B's input comes back in the form, and
A's change is intact. For every edit form of the console, the mapping import and restore, and the deletes."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from connections.models import EntraConnection, SalesforceConnection
from console.concurrency import EditRecord
from console.permissions import APPLICATION_ADMINISTRATOR
from mappings.graph_json import export_object_mapping, import_object_mapping
from mappings.models import AttributeMapping, ObjectMapping, ScopingFilter
from provisioning.models import ProvisioningJob
from tests.conftest import PASSWORD
from tests.mappings.test_views_scope import _data

from .conftest import KNOWN_SECRETS
from .test_credentials import ENTRA_DEFAULTS, SF_DEFAULTS
from .test_settings import SETTINGS

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def bob(db) -> Client:
    user = User.objects.create_user("bob.admin", password=PASSWORD)
    user.groups.add(Group.objects.get(name=APPLICATION_ADMINISTRATOR))
    client = Client()
    client.force_login(user)
    return client


def version_on(response, prefix: str = "") -> str:
    """The version a page's form was loaded with (its hidden edit_version field)."""
    found = re.search(rf'name="{re.escape(prefix)}edit_version" value="(\d+)"', response.content.decode())
    assert found, f"no {prefix}edit_version on the page"
    return found.group(1)


def assert_refused(response, who: str, *shown: str) -> str:
    html = response.content.decode()
    assert response.status_code == 409, html[:500]
    assert "Not saved:" in html and f"<strong>{who}</strong> saved at" in html
    for text in shown:
        assert escape(text) in html, text
    return html


# -- the Provisioning page ---------------------------------------------------------------------------------------


def test_provisioning_mode(alice, bob, configured_application):
    url, page = (
        reverse("save_mode", args=[configured_application.slug]),
        reverse("provisioning", args=[configured_application.slug]),
    )
    seen_by_bob = version_on(bob.get(page), "mode-")
    seen_by_alice = version_on(alice.get(page), "mode-")
    assert alice.post(url, {"mode-provisioning_mode": "manual", "mode-edit_version": seen_by_alice}).status_code == 302
    refused = bob.post(url, {"mode-provisioning_mode": "automatic", "mode-edit_version": seen_by_bob})
    html = assert_refused(refused, "alice.admin", "Provisioning Mode", "Manual", "Automatic")
    assert '<option value="automatic" selected>' in html  # Bob's choice is what the form shows again
    configured_application.refresh_from_db()
    assert configured_application.provisioning_mode == "manual"


def test_salesforce_credentials_never_show_a_secret_and_keep_the_one_typed(alice, bob, configured_application):
    slug = configured_application.slug
    url, page = reverse("save_salesforce_credentials", args=[slug]), reverse("provisioning", args=[slug])
    seen_by_bob = version_on(bob.get(page), "salesforce-")
    alices = {**SF_DEFAULTS, "salesforce-edit_version": version_on(alice.get(page), "salesforce-")}
    alices.update(
        {
            "salesforce-login_url": "https://acme--uat.sandbox.my.salesforce.com",
            "salesforce-admin_password": "Alice-Secret-1",
        }
    )
    assert alice.post(url, alices).status_code == 302

    bobs = {**SF_DEFAULTS, "salesforce-edit_version": seen_by_bob}
    bobs.update({"salesforce-admin_username": "bob@acme.com.uat", "salesforce-security_token": "Bob-Token-2"})
    html = assert_refused(
        bob.post(url, bobs), "alice.admin", "Login URL", "https://acme--uat.sandbox.my.salesforce.com"
    )
    assert "Alice-Secret-1" not in html and "Bob-Token-2" not in html and KNOWN_SECRETS["admin_password"] not in html
    assert re.search(r"Admin Password</th>\s*<td>\(empty\)</td>\s*<td class=\"changed\">changed", html)
    assert "new value typed (kept, not shown)" in html
    assert 'value="bob@acme.com.uat"' in html  # Bob's username is in the form again
    connection = SalesforceConnection.objects.get(application=configured_application)
    assert connection.admin_username == "admin@acme.com.uat" and connection.secret("admin_password") == "Alice-Secret-1"
    assert connection.secret("security_token") == KNOWN_SECRETS["security_token"]

    # Bob looks, agrees, and saves the form as it came back: his token, typed once, is saved without retyping.
    again = dict(bobs)
    again["salesforce-edit_version"] = version_on(bob.post(url, bobs), "salesforce-")  # the refusal's page
    again["salesforce-security_token"] = ""
    again["salesforce-pending_secrets"] = re.search(
        r'name="salesforce-pending_secrets" value="([^"]+)"', bob.post(url, bobs).content.decode()
    ).group(1)
    assert bob.post(url, again).status_code == 302
    connection.refresh_from_db()
    assert connection.admin_username == "bob@acme.com.uat" and connection.secret("security_token") == "Bob-Token-2"
    assert connection.secret("admin_password") == "Alice-Secret-1"


def test_entra_credentials(alice, bob, configured_application):
    slug = configured_application.slug
    url, page = reverse("save_entra_credentials", args=[slug]), reverse("provisioning", args=[slug])
    seen_by_bob = version_on(bob.get(page), "entra-")
    alices = {
        **ENTRA_DEFAULTS,
        "entra-edit_version": version_on(alice.get(page), "entra-"),
        "entra-client_secret": "New-Secret-A",
    }
    assert alice.post(url, alices).status_code == 302
    bobs = {**ENTRA_DEFAULTS, "entra-edit_version": seen_by_bob, "entra-graph_url": "https://graph.microsoft.us/v1.0"}
    html = assert_refused(bob.post(url, bobs), "alice.admin", "Client secret")
    assert "New-Secret-A" not in html and 'value="https://graph.microsoft.us/v1.0"' in html
    entra = EntraConnection.objects.get(application=configured_application)
    assert entra.secret("client_secret") == "New-Secret-A" and entra.graph_url == "https://graph.microsoft.com/v1.0"


def test_settings(alice, bob, configured_application):
    slug = configured_application.slug
    url, page = reverse("save_settings", args=[slug]), reverse("provisioning", args=[slug])
    seen_by_bob = version_on(bob.get(page), "settings-")
    alices = {**SETTINGS, "settings-edit_version": version_on(alice.get(page), "settings-")}
    assert alice.post(url, {**alices, "settings-notification_email": "alice@example.com"}).status_code == 302
    bobs = {**SETTINGS, "settings-edit_version": seen_by_bob, "settings-interval_minutes": "90"}
    html = assert_refused(
        bob.post(url, bobs), "alice.admin", "Notification Email", "ops@example.com", "alice@example.com"
    )
    assert 'name="settings-interval_minutes" value="90"' in html
    job = ProvisioningJob.objects.get(application=configured_application)
    assert job.notification_email == "alice@example.com" and job.interval_minutes == 40


def test_status_and_settings_of_one_job_do_not_refuse_each_other(alice, bob, configured_application):
    slug = configured_application.slug
    page = reverse("provisioning", args=[slug])
    bobs_status = version_on(bob.get(page), "status-")
    alices = {**SETTINGS, "settings-edit_version": version_on(alice.get(page), "settings-")}
    assert (
        alice.post(reverse("save_settings", args=[slug]), {**alices, "settings-interval_minutes": "60"}).status_code
        == 302
    )
    turned_on = bob.post(
        reverse("save_status", args=[slug]), {"status-enabled": "on", "status-edit_version": bobs_status}
    )
    assert turned_on.status_code == 302
    job = ProvisioningJob.objects.get(application=configured_application)
    assert job.enabled and job.interval_minutes == 60


def test_status_switched_off_on_the_overview_is_not_undone_by_an_older_form(alice, bob, configured_application):
    slug = configured_application.slug
    job = ProvisioningJob.objects.get(application=configured_application)
    job.enabled = True
    job.save()
    seen_by_bob = version_on(bob.get(reverse("provisioning", args=[slug])), "status-")
    assert alice.post(reverse("overview_action", args=[slug, "stop"])).status_code == 302
    refused = bob.post(
        reverse("save_status", args=[slug]), {"status-enabled": "on", "status-edit_version": seen_by_bob}
    )
    assert_refused(refused, "alice.admin", "Provisioning Status", "Stop (Overview)")
    assert not ProvisioningJob.objects.get(pk=job.pk).enabled


def test_status_switched_off_by_the_quarantine_giving_up_is_not_undone_by_an_older_form(bob, configured_application):
    from datetime import timedelta

    from django.utils import timezone

    from provisioning.operations import quarantine

    slug = configured_application.slug
    job = ProvisioningJob.objects.get(application=configured_application)
    job.enabled = True
    job.save()
    seen_by_bob = version_on(bob.get(reverse("provisioning", args=[slug])), "status-")
    trouble = quarantine.Trouble(quarantine.CREDENTIALS, "Sign-in refused.")
    began = timezone.now() - timedelta(days=29)
    quarantine.enter(job, trouble, now=began)
    quarantine.enter(job, trouble, now=began + timedelta(days=28))
    assert not ProvisioningJob.objects.get(pk=job.pk).enabled
    refused = bob.post(
        reverse("save_status", args=[slug]), {"status-enabled": "on", "status-edit_version": seen_by_bob}
    )
    assert_refused(refused, "quarantine", "Provisioning Status", "Quarantined for four weeks")
    assert not ProvisioningJob.objects.get(pk=job.pk).enabled


def test_connections_pointed_at_the_emulators_refuse_an_older_connection_form(bob, configured_application):
    from provisioning.applications import point_at_emulators

    slug = configured_application.slug
    url, page = reverse("save_salesforce_credentials", args=[slug]), reverse("provisioning", args=[slug])
    seen_by_bob = version_on(bob.get(page), "salesforce-")
    info = {
        "salesforce": {
            "login_url": "https://127.0.0.1:9443",
            "username": "admin@emulator.test",
            "password": "Emulator-Password-1",
            "security_token": "EmulatorToken1",
        },
        "entra": {
            "authority_host": "https://127.0.0.1:9444",
            "graph_url": "https://127.0.0.1:9444/v1.0",
            "tenant_id": "11111111-1111-1111-1111-111111111111",
            "client_id": "22222222-2222-2222-2222-222222222222",
            "client_secret": "Emulator-Secret-1",
            "service_principal_id": "33333333-3333-3333-3333-333333333333",
        },
        "ca_bundle": "/tmp/emulators-ca.pem",
    }
    point_at_emulators(configured_application, info)
    bobs = {**SF_DEFAULTS, "salesforce-edit_version": seen_by_bob, "salesforce-admin_username": "bob@acme.com.uat"}
    html = assert_refused(bob.post(url, bobs), "the bundled emulators", "https://127.0.0.1:9443")
    assert "Emulator-Password-1" not in html and "EmulatorToken1" not in html
    connection = SalesforceConnection.objects.get(application=configured_application)
    assert connection.login_url == "https://127.0.0.1:9443" and connection.secret("admin_password") == (
        "Emulator-Password-1"
    )


# -- the mapping editor --------------------------------------------------------------------------------------------


def _row(application, target: str) -> AttributeMapping:
    return AttributeMapping.objects.get(object_mapping__application=application, target_attribute=target)


def _row_data(row: AttributeMapping, version: str, **changes) -> dict:
    data = {
        "mapping_type": row.mapping_type,
        "source_attribute": row.source_attribute,
        "expression": row.expression,
        "target_attribute": row.target_attribute,
        "default_value": row.default_value,
        "flow_type": row.flow_type,
        "edit_version": version,
        **({"match_objects": "on", "matching_precedence": row.matching_precedence} if row.match_objects else {}),
    }
    return {**data, **changes}


def test_object_mapping_flags_and_suffix(alice, bob, application):
    url, page = reverse("mapping_save", args=[application.slug]), reverse("mapping_editor", args=[application.slug])
    base = {
        "mapping-enabled": "on",
        "mapping-action_create": "on",
        "mapping-action_update": "on",
        "mapping-action_delete": "on",
        "mapping-sandbox_suffix": "uat",
    }
    seen_by_bob = version_on(bob.get(page), "mapping-")
    alices = {**base, "mapping-edit_version": version_on(alice.get(page), "mapping-")}
    assert alice.post(url, {**alices, "mapping-action_delete": ""}).status_code == 302
    refused = bob.post(url, {**base, "mapping-edit_version": seen_by_bob, "mapping-sandbox_suffix": "qa"})
    html = assert_refused(refused, "alice.admin", "Delete")
    assert 'name="mapping-sandbox_suffix" value="qa"' in html
    mapping = ObjectMapping.objects.get(application=application)
    assert mapping.sandbox_suffix == "uat" and not mapping.action_delete
    assert _row(application, "Username").expression == 'Append([userPrincipalName], ".uat")'


def test_a_suffix_change_refuses_an_older_form_of_the_rewritten_rows(alice, bob, application):
    username = _row(application, "Username")
    edit = reverse("attribute_mapping_edit", args=[application.slug, username.pk])
    seen_by_bob = version_on(bob.get(edit))
    page = reverse("mapping_editor", args=[application.slug])
    alices = {
        "mapping-enabled": "on",
        "mapping-action_create": "on",
        "mapping-action_update": "on",
        "mapping-action_delete": "on",
        "mapping-sandbox_suffix": "qa",
        "mapping-edit_version": version_on(alice.get(page), "mapping-"),
    }
    assert alice.post(reverse("mapping_save", args=[application.slug]), alices).status_code == 302
    refused = bob.post(edit, _row_data(username, seen_by_bob, default_value="nobody"))
    assert_refused(refused, "alice.admin", 'Append([userPrincipalName], ".uat")', 'Append([userPrincipalName], ".qa")')
    assert _row(application, "Username").expression == 'Append([userPrincipalName], ".qa")'


def test_attribute_mapping(alice, bob, application):
    row = _row(application, "Alias")
    url = reverse("attribute_mapping_edit", args=[application.slug, row.pk])
    seen_by_bob = version_on(bob.get(url))
    assert (
        alice.post(url, _row_data(row, version_on(alice.get(url)), expression="Left([mailNickname], 8)")).status_code
        == 302
    )
    bobs = _row_data(row, seen_by_bob, expression="Mid([givenName], 1, 5)")
    html = assert_refused(
        bob.post(url, bobs), "alice.admin", "Mid([userPrincipalName], 1, 8)", "Left([mailNickname], 8)"
    )
    assert escape("Mid([givenName], 1, 5)") in html.split("<textarea")[1]  # Bob's expression is in the box
    assert _row(application, "Alias").expression == "Left([mailNickname], 8)"
    # Saving the form as it came back is deliberate: Bob's expression replaces Alice's.
    assert bob.post(url, {**bobs, "edit_version": version_on(bob.post(url, bobs))}).status_code == 302
    assert _row(application, "Alias").expression == "Mid([givenName], 1, 5)"


def _import_by_command(application, edit) -> None:
    """What `mappings import` does with the exported mapping whose attributeMappings went through `edit`."""
    mapping = ObjectMapping.objects.get(application=application)
    document = export_object_mapping(mapping)
    document["attributeMappings"] = edit(document["attributeMappings"])
    import_object_mapping(mapping, document, actor="manage.py mappings")


def test_an_import_while_an_attribute_form_is_open(bob, application):
    """The defect of issue 12: the import recreated every row, and Bob's save answered 404 and lost his expression."""
    row = _row(application, "Alias")
    url = reverse("attribute_mapping_edit", args=[application.slug, row.pk])
    seen_by_bob = version_on(bob.get(url))

    def left_for_alias(rows: list[dict]) -> list[dict]:
        left = {"expression": "Left([mailNickname], 8)", "name": "Left", "parameters": [], "type": "Function"}
        return [{**r, "source": left} if r["targetAttributeName"] == "Alias" else r for r in rows]

    _import_by_command(application, left_for_alias)
    assert _row(application, "Alias").pk == row.pk  # the row kept its identity
    bobs = _row_data(row, seen_by_bob, expression="Mid([givenName], 1, 5)")
    html = assert_refused(
        bob.post(url, bobs), "manage.py mappings", "Imported 14 attribute mappings", "Left([mailNickname], 8)"
    )
    assert escape("Mid([givenName], 1, 5)") in html


def test_an_import_that_drops_the_row_being_edited(bob, application):
    row = _row(application, "UserPermissionsOfflineUser")
    url = reverse("attribute_mapping_edit", args=[application.slug, row.pk])
    seen_by_bob = version_on(bob.get(url))
    _import_by_command(application, lambda rows: [r for r in rows if r["targetAttributeName"] != row.target_attribute])
    bobs = _row_data(row, seen_by_bob, default_value="True")
    refused = bob.post(url, bobs)
    html = refused.content.decode()
    assert refused.status_code == 409
    assert "Not saved: manage.py mappings deleted this attribute mapping at" in html
    add_url = reverse("attribute_mapping_add", args=[application.slug])
    assert f'action="{add_url}"' in html and 'value="True"' in html  # Bob's row comes back as one to add
    assert bob.post(add_url, bobs).status_code == 302
    assert _row(application, "UserPermissionsOfflineUser").default_value == "True"


def _clauses(title: str, version: str, rows: list[tuple[str, str, str]], ids=()) -> dict:
    return _data(title, rows, initial=len(ids), ids=ids, version=version)


@pytest.fixture
def sales_filter(alice, application) -> ScopingFilter:
    url = reverse("scoping_filter_add", args=[application.slug])
    assert alice.post(url, _clauses("Sales", "", [("department", "EQUALS", "Sales")])).status_code == 302
    return ScopingFilter.objects.get(title="Sales")


def test_scoping_filter(alice, bob, application, sales_filter):
    url = reverse("scoping_filter_edit", args=[application.slug, sales_filter.pk])
    ids = list(sales_filter.clauses.values_list("pk", flat=True))
    seen_by_bob = version_on(bob.get(url), "filter-")
    alices = _clauses(
        "Sales",
        version_on(alice.get(url), "filter-"),
        [("department", "EQUALS", "Sales"), ("city", "EQUALS", "Paris")],
        ids,
    )
    assert alice.post(url, alices).status_code == 302
    bobs = _clauses("Sales and Marketing", seen_by_bob, [("department", "REGEX MATCH", "^(Sales|Marketing)$")], ids)
    html = assert_refused(bob.post(url, bobs), "alice.admin", "department EQUALS Sales; city EQUALS Paris")
    assert 'value="Sales and Marketing"' in html and escape("^(Sales|Marketing)$") in html
    sales_filter.refresh_from_db()
    assert sales_filter.title == "Sales" and [str(c) for c in sales_filter.clauses.all()] == [
        "department EQUALS Sales",
        "city EQUALS Paris",
    ]


def test_a_scoping_filter_deleted_while_its_form_is_open(alice, bob, application, sales_filter):
    url = reverse("scoping_filter_edit", args=[application.slug, sales_filter.pk])
    ids = list(sales_filter.clauses.values_list("pk", flat=True))
    seen_by_bob = version_on(bob.get(url), "filter-")
    delete = reverse("scoping_filter_delete", args=[application.slug, sales_filter.pk])
    assert alice.post(delete, {"edit_version": str(sales_filter.edit_version)}).status_code == 302
    bobs = _clauses("Sales", seen_by_bob, [("department", "EQUALS", "Sales & Ops")], ids)
    refused = bob.post(url, bobs)
    html = refused.content.decode()
    assert refused.status_code == 409 and "alice.admin deleted this scoping filter at" in html
    assert escape("Sales & Ops") in html
    add = reverse("scoping_filter_add", args=[application.slug])
    assert f'<form method="post" action="{add}"' in html
    again = {k: v for k, v in bobs.items() if not k.endswith("-id")}
    assert bob.post(add, {**again, "clauses-INITIAL_FORMS": "0"}).status_code == 302
    assert [str(c) for c in ScopingFilter.objects.get(title="Sales").clauses.all()] == ["department EQUALS Sales & Ops"]


def test_a_delete_from_an_older_page_is_refused(alice, bob, application):
    row = _row(application, "FirstName")
    seen_by_bob = str(row.edit_version)
    url = reverse("attribute_mapping_edit", args=[application.slug, row.pk])
    assert alice.post(url, _row_data(row, version_on(alice.get(url)), default_value="Unknown")).status_code == 302
    delete = reverse("attribute_mapping_delete", args=[application.slug, row.pk])
    refused = bob.post(delete, {"edit_version": seen_by_bob}, follow=True)
    assert "Not deleted: alice.admin changed it at" in refused.content.decode()
    assert _row(application, "FirstName").default_value == "Unknown"
    assert bob.post(delete, {"edit_version": str(_row(application, "FirstName").edit_version)}).status_code == 302
    assert not AttributeMapping.objects.filter(pk=row.pk).exists()


# -- whole-mapping forms: import and restore ------------------------------------------------------------------------


def _whole_mapping_page_then_alice_edits(alice, bob, application, page: str) -> tuple[str, AttributeMapping]:
    """Bob opens an import or restore page; then Alice edits FirstName. Returns the mapping version Bob's page shows."""
    seen_by_bob = re.search(r'name="mapping_version" value="(\d+)"', bob.get(page).content.decode()).group(1)
    row = _row(application, "FirstName")
    edit = reverse("attribute_mapping_edit", args=[application.slug, row.pk])
    assert alice.post(edit, _row_data(row, version_on(alice.get(edit)), default_value="Unknown")).status_code == 302
    return seen_by_bob, row


def test_the_import_page_keeps_the_document_when_the_mapping_changed(alice, bob, application):
    import_url = reverse("mapping_import", args=[application.slug])
    seen_by_bob, row = _whole_mapping_page_then_alice_edits(alice, bob, application, import_url)
    document = export_object_mapping(ObjectMapping.objects.get(application=application))
    document["attributeMappings"] = [
        m for m in document["attributeMappings"] if m["targetAttributeName"] != "FirstName"
    ]
    text = json.dumps(document)
    refused = bob.post(import_url, {"document": text, "mapping_version": seen_by_bob})
    html = refused.content.decode()
    assert refused.status_code == 409 and "<strong>alice.admin</strong> saved at" in html
    assert "Edited the mapping of FirstName" in html and escape(text) in html
    assert _row(application, "FirstName").default_value == "Unknown"
    current = re.search(r'name="mapping_version" value="(\d+)"', html).group(1)
    assert bob.post(import_url, {"document": text, "mapping_version": current}).status_code == 302
    assert not AttributeMapping.objects.filter(
        object_mapping__application=application, target_attribute="FirstName"
    ).exists()
    assert EditRecord.objects.filter(deleted=True, object_pk=str(row.pk)).exists()


def test_restore_defaults_from_an_older_page_is_refused(alice, bob, application):
    restore = reverse("mapping_restore", args=[application.slug])
    seen_by_bob, _row_alice_edited = _whole_mapping_page_then_alice_edits(alice, bob, application, restore)
    refused = bob.post(restore, {"mapping_version": seen_by_bob})
    assert refused.status_code == 409 and "Edited the mapping of FirstName" in refused.content.decode()
    assert _row(application, "FirstName").default_value == "Unknown"
