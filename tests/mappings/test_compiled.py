import pytest

from mappings.compiled import InvalidMappingError, MappingError, compile_mapping
from mappings.expressions import Redacted
from mappings.models import AttributeMapping, FlowType, MappingType, ObjectMapping, ScopingClause, ScopingFilter

from .helpers import Target

JOHN = {
    "id": "11111111-2222-3333-4444-555555555555",
    "userPrincipalName": "John.Doe@contoso.com",
    "mail": "john.doe@contoso.com",
    "givenName": "John",
    "surname": "Doe",
    "preferredLanguage": "en-US",
    "department": "Sales",
    "IsSoftDeleted": "False",
    "appRoleAssignments": ["Standard User"],
}


@pytest.fixture
def user_mapping(application):
    return ObjectMapping.objects.get(application=application)


def test_default_mapping_creates_a_complete_salesforce_user_with_the_sandbox_suffix(user_mapping):
    compiled = compile_mapping(user_mapping)
    assert compiled.evaluate(JOHN, creating=True) == {
        "IsActive": "True",
        "Alias": "John.Doe",
        "Email": "john.doe@contoso.com.uat",
        "EmailEncodingKey": "ISO-8859-1",
        "LanguageLocaleKey": "en_US",
        "FirstName": "John",
        "LastName": "Doe",
        "LocaleSidKey": "en_US",
        "ProfileName": "Standard User",
        "TimeZoneSidKey": "America/Los_Angeles",
        "Username": "John.Doe@contoso.com.uat",
        "UserPermissionsCallCenterAutoLogin": "False",
        "UserPermissionsMarketingUser": "False",
        "UserPermissionsOfflineUser": "False",
    }


def test_defaults_apply_only_when_creating(user_mapping):
    compiled = compile_mapping(user_mapping)
    sparse = {"userPrincipalName": "Ann@contoso.com", "IsSoftDeleted": "False"}
    created = compiled.evaluate(sparse, creating=True)
    assert created["LastName"] == "."
    assert created["ProfileName"] == "Chatter Free User"
    assert created["LocaleSidKey"] == "en_US"
    assert "Email" not in created and "FirstName" not in created  # nulls never flow
    updated = compiled.evaluate(sparse, creating=False)
    assert updated == {"IsActive": "True", "Alias": "Ann@cont", "Username": "Ann@contoso.com.uat"}


def test_soft_deleted_user_is_deactivated(user_mapping):
    assert (
        compile_mapping(user_mapping).evaluate({**JOHN, "IsSoftDeleted": "True"}, creating=False)["IsActive"] == "False"
    )


def test_a_failing_expression_fails_this_user_with_the_target_attribute_named(user_mapping):
    AttributeMapping.objects.create(
        object_mapping=user_mapping,
        target_attribute="Title",
        mapping_type=MappingType.EXPRESSION,
        expression="Item([proxyAddresses], 0)",
    )
    with pytest.raises(MappingError) as caught:
        compile_mapping(user_mapping).evaluate({**JOHN, "proxyAddresses": ["SMTP:a@x"]}, creating=True)
    assert caught.value.target_attribute == "Title"
    assert "Item index is 1-based" in str(caught.value)


def test_two_roles_give_one_profile_the_same_every_cycle(user_mapping):
    compiled = compile_mapping(user_mapping)
    for roles in (["Standard User", "Sales"], ["Sales", "Standard User"]):
        assert compiled.evaluate({**JOHN, "appRoleAssignments": roles}, creating=True)["ProfileName"] == "Sales"


def test_matching_uses_the_suffixed_username(user_mapping):
    compiled = compile_mapping(user_mapping)
    assert compiled.matching == [("Username", 'Append([userPrincipalName], ".uat")')]
    assert compiled.match_values(JOHN) == [("Username", "John.Doe@contoso.com.uat")]
    assert compiled.match_values({}) == []


def test_source_attributes_list_what_graph_must_select(user_mapping):
    ScopingClause.objects.create(
        scoping_filter=ScopingFilter.objects.create(object_mapping=user_mapping, title="Sales"),
        attribute="department",
        operator="EQUALS",
        value="Sales",
    )
    compiled = compile_mapping(user_mapping)
    assert compiled.source_attributes == {
        "IsSoftDeleted",
        "userPrincipalName",
        "mail",
        "givenName",
        "surname",
        "preferredLanguage",
        "appRoleAssignments",
        "department",
    }
    assert compiled.scope(JOHN).in_scope
    decision = compiled.scope({**JOHN, "department": "HR"})
    assert not decision.in_scope
    assert decision.reasons == ["Scoping filter 'Sales' department EQUALS Sales: failed"]


def test_matching_attributes_follow_precedence(user_mapping):
    AttributeMapping.objects.create(
        object_mapping=user_mapping,
        target_attribute="FederationIdentifier",
        source_attribute="userPrincipalName",
        match_objects=True,
        matching_precedence=2,
    )
    AttributeMapping.objects.create(
        object_mapping=user_mapping,
        target_attribute="EmployeeNumber",
        source_attribute="employeeId",
        match_objects=True,
        matching_precedence=0,
    )
    compiled = compile_mapping(user_mapping)
    assert [m[0] for m in compiled.matching] == ["EmployeeNumber", "Username", "FederationIdentifier"]
    assert compiled.match_values(JOHN) == [
        ("Username", "John.Doe@contoso.com.uat"),
        ("FederationIdentifier", "John.Doe@contoso.com"),
    ]


def test_only_during_object_creation_constant_redact_and_ignore_flow(user_mapping):
    rows = [
        ("CommunityNickname", MappingType.EXPRESSION, "Guid()", FlowType.OBJECT_ADD_ONLY),
        ("Department", MappingType.CONSTANT, "Engineering", FlowType.ALWAYS),
        ("EmployeeNumber", MappingType.EXPRESSION, 'Append(Redact([employeeId]), "-x")', FlowType.ALWAYS),
        ("Title", MappingType.EXPRESSION, "IgnoreFlowIfNullOrEmpty([jobTitle])", FlowType.ALWAYS),
        ("Phone", MappingType.EXPRESSION, "IgnoreFlowIfNullOrEmpty([telephoneNumber])", FlowType.ALWAYS),
    ]
    for target, kind, source, flow in rows:
        AttributeMapping.objects.create(
            object_mapping=user_mapping,
            target_attribute=target,
            mapping_type=kind,
            constant_value=source if kind == MappingType.CONSTANT else "",
            expression=source if kind == MappingType.EXPRESSION else "",
            default_value="fallback" if target == "Phone" else "",
            flow_type=flow,
        )
    compiled = compile_mapping(user_mapping)
    user = {**JOHN, "employeeId": "E42", "jobTitle": "Engineer"}
    created = compiled.evaluate(user, creating=True)
    updated = compiled.evaluate(user, creating=False)
    assert len(created["CommunityNickname"]) == 36 and "CommunityNickname" not in updated
    assert created["Department"] == updated["Department"] == "Engineering"
    assert created["EmployeeNumber"] == "E42-x" and isinstance(created["EmployeeNumber"], Redacted)
    assert compiled.redacted_targets == {"EmployeeNumber"}
    assert compiled.display("EmployeeNumber", created["EmployeeNumber"]) == "[Redact]"
    assert compiled.display("Department", "Engineering") == "Engineering"
    assert created["Title"] == "Engineer"
    assert "Phone" not in created  # dropped from the flow: not even the default


def test_a_row_that_no_longer_validates_cannot_be_compiled(user_mapping):
    AttributeMapping.objects.create(
        object_mapping=user_mapping,
        target_attribute="Title",
        mapping_type=MappingType.EXPRESSION,
        expression="Mid([a], 1)",
    )
    with pytest.raises(InvalidMappingError) as caught:
        compile_mapping(user_mapping)
    assert caught.value.target_attribute == "Title"
    assert "Mid expects 3 arguments, got 2 (column 1)" in str(caught.value)


def test_object_mapping_flags_are_carried(user_mapping):
    user_mapping.action_delete = False
    user_mapping.save()
    compiled = compile_mapping(user_mapping)
    assert compiled.enabled and compiled.action_create and not compiled.action_delete
    assert compiled.version == user_mapping.version


def test_bench_mappings_command_reports_microseconds_per_user():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("bench_mappings", users=200, stdout=out)
    text = out.getvalue()
    assert "200 users" in text and "us/user" in text and "p99" in text
    mean = float(text.split("mean ")[1].split(" us/user")[0])
    assert mean < 1000  # well under a millisecond per user


def _nickname_picked_unique(user_mapping, flow_type: str) -> None:
    AttributeMapping.objects.create(
        object_mapping=user_mapping,
        target_attribute="CommunityNickname",
        mapping_type=MappingType.EXPRESSION,
        expression='SelectUniqueValue([mailNickname], Append([mailNickname], "2"))',
        flow_type=flow_type,
    )


def test_select_unique_value_is_checked_in_the_target_attribute_of_its_row(user_mapping):
    _nickname_picked_unique(user_mapping, FlowType.OBJECT_ADD_ONLY)
    target = Target("jdoe")
    values = compile_mapping(user_mapping).evaluate({**JOHN, "mailNickname": "jdoe"}, creating=True, target=target)
    assert values["CommunityNickname"] == "jdoe2"
    assert target.lookups == [("CommunityNickname", ["jdoe", "jdoe2"])]


def test_a_select_unique_value_saved_as_always_is_still_applied_only_on_creation(user_mapping):
    _nickname_picked_unique(user_mapping, FlowType.ALWAYS)
    compiled = compile_mapping(user_mapping)
    user = {**JOHN, "mailNickname": "jdoe"}
    assert compiled.evaluate(user, creating=True, target=Target())["CommunityNickname"] == "jdoe"
    assert "CommunityNickname" not in compiled.evaluate(user, creating=False, target=Target("jdoe"))
