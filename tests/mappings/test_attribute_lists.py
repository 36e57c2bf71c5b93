"""Show advanced options: the attribute list for Microsoft Entra ID (directory extensions found through Graph,
typed names) and the attribute list for Salesforce (attributes added by hand, the org's described fields), and how
the mappings, scoping filters, the expression tester and `mappings test` follow the edited lists."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from console.models import AuditActivity, AuditEntry
from mappings.attribute_lists import (
    AttributeListError,
    add_source_attribute,
    add_target_attribute,
    remove_source_attribute,
    remove_target_attribute,
)
from mappings.models import AttributeMapping, ObjectMapping, SourceAttribute, TargetAttribute
from mappings.targets import store_described_fields

pytestmark = pytest.mark.django_db


def _badge(emu) -> str:
    return next(n for n in emu.entra_app.state.extension_properties if n.endswith("_badgeNumber"))


def _user_with_badge(emu) -> dict:
    name = _badge(emu)
    return next(u for u in emu.entra_app.state.users.values() if u.get(name))


def _test(application, expression: str, upn: str) -> str:
    out = []

    class Out:
        def write(self, text):
            out.append(text)

    call_command("mappings", "test", application.slug, "--expression", expression, "--user", upn, stdout=Out())
    return "".join(out)


def test_mappings_test_refuses_an_extension_attribute_until_it_is_added_to_the_list(live_app, emu):
    name, user = _badge(emu), _user_with_badge(emu)
    expression = f'Append([{name}], "-SF")'
    with pytest.raises(CommandError, match=rf"unknown attribute \[{name}\]; add it to the list first"):
        _test(live_app, expression, user["userPrincipalName"])
    add_source_attribute(live_app, name, "String")
    assert _test(live_app, expression, user["userPrincipalName"]).strip().endswith(f"{user[name]}-SF")


def test_the_tenants_directory_extensions_are_found_and_added_from_the_page(admin_client, live_app, emu):
    name = _badge(emu)
    page = admin_client.post(reverse("source_attribute_discover", args=[live_app.slug])).content.decode()
    assert f"<code>{name}</code>" in page and "HR sync" in page
    response = admin_client.post(
        reverse("source_attribute_list", args=[live_app.slug]),
        {"name": name, "type": "String", "app_display_name": "HR sync"},
    )
    assert response.status_code == 302
    row = SourceAttribute.objects.get(application=live_app)
    assert (row.name, row.origin, row.app_display_name) == (name, "extension", "HR sync")
    entry = AuditEntry.objects.get(activity=AuditActivity.UPDATE_MAPPINGS)
    assert entry.detail == f"Added {name} (String) to the attribute list for Microsoft Entra ID."
    again = admin_client.post(reverse("source_attribute_discover", args=[live_app.slug])).content.decode()
    assert "Every directory extension of the tenant is already in the list" in again


def test_finding_extensions_without_directory_read_all_says_which_permission(admin_client, live_app, emu):
    emu.control.withhold_permission("Directory.Read.All")
    page = admin_client.post(reverse("source_attribute_discover", args=[live_app.slug])).content.decode()
    assert "Could not list the directory extensions" in page
    assert "Grant the application permission Directory.Read.All" in page


def test_a_name_graph_does_not_know_is_refused_and_one_graph_cannot_check_is_noted(live_app, emu):
    with pytest.raises(
        AttributeListError, match="does not know favouriteColour: Graph refused the request: Could not find a property"
    ):
        add_source_attribute(live_app, "favouriteColour", "String")
    with pytest.raises(AttributeListError, match="is already one of Entra's attributes"):
        add_source_attribute(live_app, "department", "String")
    with pytest.raises(AttributeListError, match="Entra does not provision multi-valued directory extensions"):
        add_source_attribute(live_app, "extension_0123456789abcdef0123456789abcdef_tags", "String", multivalued=True)
    with pytest.raises(AttributeListError, match="is not an attribute name"):
        add_source_attribute(live_app, "cost centre", "String")
    assert not SourceAttribute.objects.exists()
    emu.control.expire_client_secret()
    emu.control.expire_graph_tokens()
    done = add_source_attribute(live_app, "employeeType2", "String")
    assert done.startswith("Added employeeType2 (String) to the attribute list for Microsoft Entra ID (not checked")


def test_an_added_attribute_cannot_be_removed_while_a_mapping_or_filter_reads_it(admin_client, live_app, emu):
    name = _badge(emu)
    add_source_attribute(live_app, name, "String")
    mapping = ObjectMapping.objects.get(application=live_app)
    row = AttributeMapping.objects.create(
        object_mapping=mapping, target_attribute="EmployeeNumber", mapping_type="Expression", expression=f"[{name}]"
    )
    with pytest.raises(AttributeListError, match="still used by the mapping of EmployeeNumber"):
        remove_source_attribute(live_app, name)
    row.delete()
    response = admin_client.post(reverse("source_attribute_remove", args=[live_app.slug]), {"name": name}, follow=True)
    assert f"Removed {name} from the attribute list" in response.content.decode()
    assert not SourceAttribute.objects.exists()
    response = admin_client.post(
        reverse("source_attribute_remove", args=[live_app.slug]), {"name": "mail"}, follow=True
    )
    assert "Entra&#x27;s own cannot be removed" in response.content.decode()


def test_mappings_and_scoping_filters_accept_an_attribute_once_it_is_in_the_list(admin_client, live_app, emu):
    name = _badge(emu)
    add_url = reverse("attribute_mapping_add", args=[live_app.slug])
    data = {"mapping_type": "Direct", "source_attribute": name, "target_attribute": "EmployeeNumber"}
    refused = admin_client.post(add_url, {**data, "flow_type": "Always"})
    assert (
        refused.status_code == 400 and "is not in the list of Microsoft Entra ID attributes" in refused.content.decode()
    )
    scope_url = reverse("scoping_filter_add", args=[live_app.slug])
    clause = {
        "filter-title": "Badged",
        "clauses-TOTAL_FORMS": "1",
        "clauses-INITIAL_FORMS": "0",
        "clauses-0-attribute": name,
        "clauses-0-operator": "IS NOT NULL",
    }
    assert admin_client.post(scope_url, clause).status_code == 400
    add_source_attribute(live_app, name, "String")
    assert admin_client.post(add_url, {**data, "flow_type": "Always"}).status_code == 302
    assert admin_client.post(scope_url, clause).status_code == 302
    editor = admin_client.get(add_url).content.decode()
    assert f'<option value="{name}">' in editor  # offered in the source attribute picker


def test_a_cycle_reads_extension_attributes_and_entras_renamed_attributes_from_graph(live_app, emu):
    """extension_..._badgeNumber is its own Graph property; extensionAttribute1 is inside onPremisesExtensionAttributes
    and employeeOrgData.division inside employeeOrgData: the importer asks Graph for the right properties."""
    from provisioning.operations.on_demand import provision_on_demand

    name, user = _badge(emu), _user_with_badge(emu)
    add_source_attribute(live_app, name, "String")
    mapping = ObjectMapping.objects.get(application=live_app)
    for target, expression in (
        ("EmployeeNumber", f"[{name}]"),
        ("Division", "[employeeOrgData.division]"),
        ("Title", 'Join(" / ", [extensionAttribute1], [telephoneNumber])'),
    ):
        AttributeMapping.objects.create(
            object_mapping=mapping, target_attribute=target, mapping_type="Expression", expression=expression
        )
    provision_on_demand(live_app, user["userPrincipalName"])
    created = emu.control.get_salesforce_user(username=f"{user['userPrincipalName']}.uat")
    assert created["EmployeeNumber"] == user[name]
    assert created["Division"] == user["employeeOrgData"]["division"]
    phone = (user["businessPhones"] or [None])[0]
    assert created["Title"] == " / ".join(
        v for v in (user["onPremisesExtensionAttributes"]["extensionAttribute1"], phone) if v
    )


def test_target_attributes_are_added_by_hand_checked_and_kept_by_refresh(live_app):
    add_target_attribute(live_app, "Region__c", "String", required=True)
    add_target_attribute(live_app, "Skills__c", "String", multivalued=True)
    add_target_attribute(live_app, "Buddy__c", "Reference", reference_to="User")
    rows = {r.name: r for r in TargetAttribute.objects.filter(application=live_app)}
    assert (rows["Region__c"].type, rows["Region__c"].required, rows["Region__c"].custom) == ("string", True, True)
    assert (rows["Skills__c"].type, rows["Skills__c"].multivalued) == ("multipicklist", True)
    assert (rows["Buddy__c"].type, rows["Buddy__c"].reference_to) == ("reference", "User")
    for name, kind, extra, message in [
        ("Region__c", "String", {}, "already in the attribute list for Salesforce"),
        ("Title", "String", {}, "already in the attribute list for Salesforce"),
        ("Bad__Name", "String", {}, "is not a Salesforce field name"),
        ("Boss__c", "Reference", {}, "needs the object it refers to"),
        ("Flag__c", "Boolean", {"reference_to": "User"}, "only a Reference attribute refers to an object"),
    ]:
        with pytest.raises(AttributeListError, match=message):
            add_target_attribute(live_app, name, kind, **extra)
    store_described_fields(live_app, {"fields": [{"name": "Region__c", "type": "picklist", "createable": True}]})
    after = {r.name: r for r in TargetAttribute.objects.filter(application=live_app)}
    assert after["Region__c"].type == "picklist" and not after["Region__c"].manual  # describe wins for its fields
    assert after["Skills__c"].manual and after["Buddy__c"].manual  # the others added by hand stay


def test_a_mapped_target_attribute_added_by_hand_cannot_be_removed(admin_client, live_app):
    add_target_attribute(live_app, "Region__c", "String")
    mapping = ObjectMapping.objects.get(application=live_app)
    row = AttributeMapping.objects.create(
        object_mapping=mapping, target_attribute="Region__c", mapping_type="Constant", constant_value="EMEA"
    )
    with pytest.raises(AttributeListError, match="Region__c is still mapped"):
        remove_target_attribute(live_app, "Region__c")
    with pytest.raises(AttributeListError, match="was not added by hand"):
        remove_target_attribute(live_app, "Title")
    row.delete()
    url = reverse("target_attribute_remove", args=[live_app.slug])
    assert "Removed Region__c" in admin_client.post(url, {"name": "Region__c"}, follow=True).content.decode()


def test_the_target_list_page_adds_an_attribute_and_shows_every_column(admin_client, live_app):
    url = reverse("target_attribute_list", args=[live_app.slug])
    response = admin_client.post(url, {"name": "Skills__c", "type": "String", "multivalued": "on"}, follow=True)
    html = response.content.decode()
    assert "Added Skills__c (String, multi-value) to the attribute list for Salesforce." in html
    assert "<td>Skills__c</td><td>multipicklist</td><td>No</td><td>Yes</td>" in html
    assert "<td>ProfileId</td><td>reference</td><td>No</td><td>No</td><td>Profile</td>" in html
    refused = admin_client.post(url, {"name": "Boss__c", "type": "Reference"})
    assert refused.status_code == 400 and "needs the object it refers to" in refused.content.decode()
