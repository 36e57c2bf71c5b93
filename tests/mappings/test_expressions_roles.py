import pytest

from mappings.expressions import EvaluationError

from .helpers import ev


def test_single_app_role_assignment_returns_the_one_role():
    assert ev("SingleAppRoleAssignment([appRoleAssignments])", appRoleAssignments=["Standard User"]) == "Standard User"
    assert ev("SingleAppRoleAssignment([appRoleAssignments])", appRoleAssignments=[]) is None
    assert ev("SingleAppRoleAssignment([appRoleAssignments])") is None


def test_single_app_role_assignment_fails_for_two_roles_with_entras_message():
    with pytest.raises(EvaluationError) as caught:
        ev("SingleAppRoleAssignment([appRoleAssignments])", appRoleAssignments=["Standard User", "Sales"])
    assert caught.value.message == "No more than one app role assignment was expected, but this many were found: 2"
    assert caught.value.function == "SingleAppRoleAssignment"


def test_single_app_role_assignment_counts_the_same_role_once_and_reads_graph_dicts():
    roles = [{"value": "Sales", "appRoleId": "1"}, "Sales"]
    assert ev("SingleAppRoleAssignment([appRoleAssignments])", appRoleAssignments=roles) == "Sales"


def test_app_role_assignments_complex_gives_every_role():
    roles = ["Sales", "Marketing", "Sales"]
    assert ev("AppRoleAssignmentsComplex([appRoleAssignments])", appRoleAssignments=roles) == ["Sales", "Marketing"]
    assert ev("AppRoleAssignmentsComplex([appRoleAssignments])") is None


def test_count_item_remove_duplicates_split():
    user = {"proxyAddresses": ["SMTP:a@x", "smtp:b@x", "smtp:b@x"]}
    assert ev("Count([proxyAddresses])", user) == "3"
    assert ev("Count([x])") == "0"
    assert ev("Item([proxyAddresses], 1)", user) == "SMTP:a@x"
    assert ev("Item([proxyAddresses], 9)", user) is None
    assert ev("RemoveDuplicates([proxyAddresses])", user) == ["SMTP:a@x", "smtp:b@x"]
    assert ev('Split([extensionAttribute5], ",")', extensionAttribute5="PS1,PS2") == ["PS1", "PS2"]
    assert ev('Split([x], ",")') is None


def test_item_index_is_one_based():
    with pytest.raises(EvaluationError, match="1-based"):
        ev("Item([proxyAddresses], 0)", proxyAddresses=["a"])
