"""The planner decides create / update-only-what-changed / disable / enable / skip from values alone."""

from provisioning.engine.planner import PlanKind, Policy, TargetState, plan

POLICY = Policy()
DESIRED = {"Username": "ada@contoso.com.uat", "FirstName": "Ada", "IsActive": "True", "ProfileName": "Standard User"}


def target(active=True, **values):
    base = {"Username": "ada@contoso.com.uat", "FirstName": "Ada", "ProfileName": "Standard User"}
    base.update(values)
    return TargetState(id="005000000000001AAA", active=active, values=base)


def test_new_in_scope_user_is_created_with_every_mapped_value():
    result = plan(DESIRED, in_scope=True, target=None, policy=POLICY)
    assert result.kind == PlanKind.CREATE
    assert result.changes == DESIRED


def test_create_is_skipped_when_the_create_action_is_off():
    result = plan(DESIRED, in_scope=True, target=None, policy=Policy(create=False))
    assert result.kind == PlanKind.SKIP


def test_unchanged_user_costs_no_write_even_when_booleans_are_spelled_differently():
    result = plan(DESIRED, in_scope=True, target=target(), policy=POLICY)
    assert result.kind == PlanKind.UNCHANGED
    assert not result.writes


def test_update_sends_only_the_changed_attribute_with_its_old_value():
    result = plan({**DESIRED, "FirstName": "Augusta"}, in_scope=True, target=target(), policy=POLICY)
    assert result.kind == PlanKind.UPDATE
    assert result.changes == {"FirstName": "Augusta"}
    assert result.old == {"FirstName": "Ada"}


def test_update_is_skipped_when_the_update_action_is_off():
    result = plan({**DESIRED, "FirstName": "Augusta"}, in_scope=True, target=target(), policy=Policy(update=False))
    assert result.kind == PlanKind.SKIP


def test_out_of_scope_active_user_is_disabled_never_deleted():
    result = plan(None, in_scope=False, target=target(), policy=POLICY)
    assert result.kind == PlanKind.DISABLE
    assert result.changes == {"IsActive": False}


def test_out_of_scope_user_is_not_disabled_when_delete_action_is_off_or_skip_flag_is_on():
    assert plan(None, in_scope=False, target=target(), policy=Policy(delete=False)).kind == PlanKind.SKIP
    skip = Policy(skip_out_of_scope_deletions=True)
    assert plan(None, in_scope=False, target=target(), policy=skip).kind == PlanKind.SKIP


def test_out_of_scope_user_already_inactive_or_never_provisioned_needs_nothing():
    assert plan(None, in_scope=False, target=target(active=False), policy=POLICY).kind == PlanKind.UNCHANGED
    assert plan(None, in_scope=False, target=None, policy=POLICY).kind == PlanKind.SKIP


def test_user_back_in_scope_is_enabled_with_changed_attributes_only():
    result = plan({**DESIRED, "FirstName": "Augusta"}, in_scope=True, target=target(active=False), policy=POLICY)
    assert result.kind == PlanKind.ENABLE
    assert result.changes == {"IsActive": "True", "FirstName": "Augusta"}
    assert result.old["IsActive"] is False


def test_in_scope_user_without_an_isactive_mapping_is_still_enabled():
    desired = {"Username": "ada@contoso.com.uat"}
    result = plan(desired, in_scope=True, target=target(active=False), policy=POLICY)
    assert result.kind == PlanKind.ENABLE
    assert result.changes == {"IsActive": True}


def test_blank_and_missing_values_compare_equal():
    result = plan({**DESIRED, "Title": ""}, in_scope=True, target=target(Title=None), policy=POLICY)
    assert result.kind == PlanKind.UNCHANGED


def test_a_redacted_value_differs_from_the_same_text_read_back_plain():
    from mappings.expressions import Redacted

    secret = Redacted("ada-secret")
    result = plan({**DESIRED, "Title": secret}, in_scope=True, target=target(Title="ada-secret"), policy=POLICY)
    assert result.kind == PlanKind.UPDATE and list(result.changes) == ["Title"]
