"""Each target attribute is sent and compared as its type says: the org's own type when Refresh target attributes
has read it, else the standard attribute's, else what its name tells."""

from __future__ import annotations

import pytest

from mappings.expressions import ComplexValue, Redacted
from mappings.models import TargetAttribute
from mappings.target_types import ConversionError, TargetTypes, redaction_marker
from provisioning.engine.items import TargetState
from provisioning.engine.planner import Policy, plan


def test_checkboxes_are_sent_as_booleans_whatever_the_mapping_produced():
    types = TargetTypes({"Is_Manager__c": "boolean"})
    assert types.to_salesforce("Is_Manager__c", "True") is True
    assert types.to_salesforce("Is_Manager__c", " false ") is False
    assert types.to_salesforce("IsActive", "true") is True  # a standard checkbox, no describe needed
    assert types.to_salesforce("UserPreferencesHideS1BrowserUI", "TRUE") is True  # told by its name
    assert types.to_salesforce("Department", "True") == "True"  # a text field keeps the text


def test_lists_are_joined_for_multi_select_picklists_and_redacted_values_are_sent_as_they_are():
    types = TargetTypes({"Regions__c": "multipicklist"})
    assert types.to_salesforce("Regions__c", ["EMEA", "APAC"]) == "EMEA;APAC"
    secret = Redacted("s3cret")
    assert types.to_salesforce("Is_Manager__c", secret) == "s3cret"
    assert types.comparable("Title", secret) == redaction_marker("s3cret")


def test_a_checkbox_salesforce_holds_in_another_form_is_not_written_again():
    types = TargetTypes({"Is_Manager__c": "boolean"})
    target = TargetState("005x", True, {"Is_Manager__c": True, "Title": "Engineer"})
    unchanged = plan({"Is_Manager__c": "True", "Title": "Engineer"}, in_scope=True, target=target,
                     policy=Policy(), types=types)  # fmt: skip
    assert unchanged.kind == "unchanged"
    changed = plan({"Is_Manager__c": "False"}, in_scope=True, target=target, policy=Policy(), types=types)
    assert changed.kind == "update" and changed.changes == {"Is_Manager__c": "False"}


@pytest.mark.django_db
def test_the_types_the_org_described_come_from_the_application(application):
    TargetAttribute.objects.create(application=application, name="Is_Manager__c", type="Boolean")
    types = TargetTypes.for_application(application)
    assert types.type_name("Is_Manager__c") == "boolean" and types.type_name("Title") == "string"
    assert types.to_salesforce("Is_Manager__c", "true") is True


def test_numbers_dates_and_references_are_sent_and_compared_in_salesforces_forms():
    types = TargetTypes(
        {"Grade__c": "double", "Seats__c": "int", "Start__c": "date", "Seen__c": "datetime", "Buddy__c": "reference"}
    )
    assert types.to_salesforce("Grade__c", "2.50") == 2.5 and types.to_salesforce("Seats__c", "42") == 42
    assert types.to_salesforce("Start__c", "3/5/2024 2:07:09 PM") == "2024-03-05"
    assert types.to_salesforce("Seen__c", "2021-06-30+08:00") == "2021-06-29T16:00:00Z"
    assert types.comparable("Seen__c", "2021-06-29T16:00:00.000+0000") == types.comparable(
        "Seen__c", "6/29/2021 4:00:00 PM"
    )
    assert types.comparable("Grade__c", 7.0) == types.comparable("Grade__c", "7")
    assert types.comparable("Buddy__c", "005000000000001AAA") == types.comparable("Buddy__c", "005000000000001")
    for attribute, value, message in [
        ("Seats__c", "4.5", "is not a whole number"),
        ("Grade__c", "seven", "is not a number"),
        ("Start__c", "tomorrow", "is not a date"),
    ]:
        with pytest.raises(ConversionError, match=message):
            types.to_salesforce(attribute, value)


def test_complex_role_values_go_to_text_as_json_and_to_picklists_as_their_values():
    admin = ComplexValue(
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"},
        '{"id":"1","value":"Admin","displayName":"Admin"}',
    )
    types = TargetTypes({"Roles__c": "multipicklist"})
    assert types.to_salesforce("Street", [admin]) == '[{"id":"1","value":"Admin","displayName":"Admin"}]'
    assert types.to_salesforce("Roles__c", [admin, "User"]) == "Admin;User"
    assert types.comparable("Roles__c", "User;Admin") == types.comparable("Roles__c", [admin, "User"])
