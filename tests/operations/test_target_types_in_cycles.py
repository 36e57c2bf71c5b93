"""The engine writes each value as its Salesforce field's type says (the org's describe, read by Refresh target
attributes): dates, numbers and multi-select picklists reach Salesforce in the form it takes, are not written again
when unchanged, and a value a field cannot take fails its user with a message that names the field and the type."""

from __future__ import annotations

import pytest

from mappings.models import AttributeMapping, MappingType
from mappings.targets import refresh_target_attributes
from provisioning.models import CycleStatus, ProvisionedLink, ProvisioningLogEntry
from provisioning.operations.on_demand import provision_on_demand
from tests.operations.conftest import plain_assigned_users, run, sf_user

pytestmark = pytest.mark.django_db(transaction=True)


def _map(application, **expressions: str) -> None:
    for target, expression in expressions.items():
        AttributeMapping.objects.create(
            object_mapping=application.user_mapping,
            target_attribute=target,
            mapping_type=MappingType.EXPRESSION,
            expression=expression,
        )


def test_dates_numbers_and_picklist_values_are_written_as_their_fields_take_them(configured_app, emu):
    refresh_target_attributes(configured_app)
    _map(
        configured_app,
        Start_Date__c='DateAdd("d", 30, CDate("2024-03-05T14:07:09Z"))',
        Grade__c='"7"',
        Skills__c='Split("Apex, Flows", ",")',
    )
    user = plain_assigned_users(emu)[0]
    result = provision_on_demand(configured_app, user["userPrincipalName"])
    assert result.steps[-1].status == "success", result.message
    created = sf_user(emu, user["userPrincipalName"])
    assert (created["Start_Date__c"], created["Grade__c"], created["Skills__c"]) == ("2024-04-04", 7.0, "Apex;Flows")
    # Forget the link, so the next cycle matches the user in Salesforce and compares with what Salesforce holds
    # (7.0, not "7"): equal, so the user is not written again.
    ProvisionedLink.objects.filter(job=configured_app.job).delete()
    cycle = run(configured_app.job)
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    assert not ProvisioningLogEntry.objects.filter(cycle=cycle, source_id=user["id"]).exists()
    assert sf_user(emu, user["userPrincipalName"])["LastModifiedDate"] == created["LastModifiedDate"]


def test_a_value_a_field_cannot_take_fails_the_user_naming_the_field_and_its_type(configured_app, emu):
    refresh_target_attributes(configured_app)
    _map(configured_app, Grade__c='"seven"')
    user = plain_assigned_users(emu)[0]
    result = provision_on_demand(configured_app, user["userPrincipalName"])
    assert result.steps[-1].status == "failure"
    assert "Grade__c is a double field in Salesforce and cannot take this value: 'seven' is not a number" in (
        result.message
    )
    assert sf_user(emu, user["userPrincipalName"]) is None
