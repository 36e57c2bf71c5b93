"""Each target attribute is sent and compared as its type says: the org's own type when Refresh target attributes
has read it, else the standard attribute's, else what its name tells."""

from __future__ import annotations

import pytest

from mappings.expressions import Redacted
from mappings.models import TargetAttribute
from mappings.target_types import TargetTypes, redaction_marker
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
