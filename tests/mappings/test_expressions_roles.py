import pytest

from mappings.expressions import EvaluationError

from .helpers import ev


def test_single_app_role_assignment_returns_the_one_role():
    assert ev("SingleAppRoleAssignment([appRoleAssignments])", appRoleAssignments=["Standard User"]) == "Standard User"
    assert ev("SingleAppRoleAssignment([appRoleAssignments])", appRoleAssignments=[]) is None
    assert ev("SingleAppRoleAssignment([appRoleAssignments])") is None


def test_single_app_role_assignment_provisions_one_of_several_roles_as_documented():
    """Microsoft: "There's no guarantee which role is provisioned"; one is, and here always the same one."""
    for roles in (["Standard User", "Sales"], ["Sales", "Standard User"]):
        assert ev("SingleAppRoleAssignment([appRoleAssignments])", appRoleAssignments=roles) == "Sales"


def test_single_app_role_assignment_counts_the_same_role_once_and_reads_graph_dicts():
    roles = [{"value": "Sales", "appRoleId": "1"}, "Sales"]
    assert ev("SingleAppRoleAssignment([appRoleAssignments])", appRoleAssignments=roles) == "Sales"


ADMIN = {"id": "06b07648-ecfe-589f-9d2f-6325724a46ee", "value": "Admin", "displayName": "Admin"}
USER = {"id": "06b07648-ecfe-599f-9d2f-6325724a46ee", "value": "User", "displayName": "User"}


def test_app_role_assignments_complex_gives_the_complex_role_objects_and_their_json():
    roles = ev("AppRoleAssignmentsComplex([appRoleAssignments])", appRoleAssignments=[ADMIN, USER, ADMIN])
    assert roles == [
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "displayName": "Admin", "value": "Admin"},
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "displayName": "User", "value": "User"},
    ]
    assert [str(r) for r in roles] == [
        '{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"Admin","displayName":"Admin"}',
        '{"id":"06b07648-ecfe-599f-9d2f-6325724a46ee","value":"User","displayName":"User"}',
    ]
    assert ev('Join(";", AppRoleAssignmentsComplex([appRoleAssignments]))', appRoleAssignments=[ADMIN]) == str(roles[0])
    assert ev("Count(AppRoleAssignmentsComplex([appRoleAssignments]))", appRoleAssignments=[ADMIN, USER]) == "2"
    assert ev("AppRoleAssignmentsComplex([appRoleAssignments])") is None


def test_assertive_app_role_assignments_complex_gives_display_objects():
    roles = ev("AssertiveAppRoleAssignmentsComplex([appRoleAssignments])", appRoleAssignments=[USER, "Test"])
    assert roles == [
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": "User", "value": "User"},
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": "Test", "value": "Test"},
    ]
    assert str(roles[1]) == '{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Test","value":"Test"}'
    assert ev("AssertiveAppRoleAssignmentsComplex([appRoleAssignments])", appRoleAssignments=[]) is None


def test_count_item_remove_duplicates_split():
    user = {"proxyAddresses": ["SMTP:a@x", "smtp:b@x", "smtp:b@x"]}
    assert ev("Count([proxyAddresses])", user) == "3"
    assert ev("Count([x])") == "0"
    assert ev("Item([proxyAddresses], 1)", user) == "SMTP:a@x"
    assert ev("Item([proxyAddresses], 9)", user) is None
    assert ev("RemoveDuplicates([proxyAddresses])", user) == ["SMTP:a@x", "smtp:b@x"]
    assert ev('Split([extensionAttribute5], ",")', extensionAttribute5="PS1,PS2") == ["PS1", "PS2"]
    assert ev('Split([x], ",")') is None
    documented = ev('Split([extensionAttribute5], ",")', extensionAttribute5="PermissionSetOne, PermissionSetTwo")
    assert documented == ["PermissionSetOne", "PermissionSetTwo"]


def test_item_index_is_one_based():
    with pytest.raises(EvaluationError, match="1-based"):
        ev("Item([proxyAddresses], 0)", proxyAddresses=["a"])
