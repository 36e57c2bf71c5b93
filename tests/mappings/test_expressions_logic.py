import pytest

from mappings.expressions import IGNORE_FLOW, EvaluationError

from .helpers import Target, ev


def test_bitand_documented_example():
    assert ev("BitAnd(&HF, &HF7)") == "7"
    assert ev("BitAnd([flags], 2)", flags="6") == "2"
    assert ev("BitAnd([x], 2)") is None


def test_cbool_of_a_comparison_and_of_values():
    assert ev("CBool([a] = [b])", a="x", b="x") == "True"
    assert ev("CBool([a] = [b])", a="x", b="y") == "False"
    assert ev('CBool("true")') == "True"
    assert ev("CBool(0)") == "False"
    assert ev("CBool(5)") == "True"
    assert ev("CBool([x])") == "False"


def test_coalesce_returns_the_first_non_null_value_or_the_default():
    assert ev('Coalesce([a], [b], "default")', b="B") == "B"
    assert ev('Coalesce([a], [b], "default")') == "default"
    assert ev('Coalesce([a], [b], "")') == ""
    assert ev("Coalesce([a], [b])") is None
    assert ev('Coalesce([list], "d")', list=[]) == "d"


def test_coalesce_does_not_evaluate_what_it_does_not_need():
    assert ev("Coalesce([a], SingleAppRoleAssignment([roles]))", a="A", roles=["x", "y"]) == "A"


def test_iif_documented_and_example():
    text = 'IIF([country]="USA", IIF([state]="CA", "True", "False"), "False")'
    assert ev(text, country="USA", state="CA") == "True"
    assert ev(text, country="USA", state="WA") == "False"
    assert ev(text, country="FR", state="CA") == "False"


def test_iif_condition_over_a_null_or_empty_attribute_fails():
    assert ev('IIF([country]="", "empty", "not")') == "not"
    assert ev('IIF([country]<>"USA", "other", "usa-or-null")') == "usa-or-null"
    assert ev('IIF([country]<>"USA", "other", "usa-or-null")', country="") == "usa-or-null"
    assert ev('IIF([country]<>"USA", "other", "usa-or-null")', country="FR") == "other"


def test_iif_orders_numbers_numerically_and_text_ordinally():
    assert ev('IIF([n] > 9, "big", "small")', n="10") == "big"
    assert ev('IIF([n] >= "b", "yes", "no")', n="c") == "yes"
    assert ev('IIF([n] <= 3, "yes", "no")', n="3") == "yes"
    assert ev('IIF([n] < 3, "yes", "no")', n="3") == "no"


def test_iif_condition_can_be_a_function_result():
    assert ev('IIF(IsPresent([mail]), [mail], "none")', mail="m") == "m"
    assert ev('IIF(IsPresent([mail]), [mail], "none")') == "none"


def test_iif_evaluates_only_the_chosen_branch():
    assert ev('IIF([a]="x", "ok", SingleAppRoleAssignment([roles]))', a="x", roles=["r1", "r2"]) == "ok"


def test_ignore_flow_if_null_or_empty_drops_the_attribute():
    assert ev("IgnoreFlowIfNullOrEmpty([x])") is IGNORE_FLOW
    assert ev("IgnoreFlowIfNullOrEmpty([x])", x="") is IGNORE_FLOW
    assert ev("IgnoreFlowIfNullOrEmpty([x])", x="v") == "v"
    assert ev('Append(IgnoreFlowIfNullOrEmpty([x]), "s")') is IGNORE_FLOW


@pytest.mark.parametrize(
    "value, is_null, is_null_or_empty, is_present",
    [(None, "True", "True", "False"), ("", "False", "True", "False"), ("v", "False", "False", "True")],
)
def test_null_tests(value, is_null, is_null_or_empty, is_present):
    user = {} if value is None else {"x": value}
    assert ev("IsNull([x])", user) == is_null
    assert ev("IsNullOrEmpty([x])", user) == is_null_or_empty
    assert ev("IsPresent([x])", user) == is_present


def test_is_string():
    assert ev("IsString([x])", x="a") == "True"
    assert ev("IsString([x])") == "False"
    assert ev("IsString([x])", x=["a", "b"]) == "False"


def test_not_turns_true_into_false_and_anything_else_into_true():
    assert ev("Not([IsSoftDeleted])", IsSoftDeleted="True") == "False"
    assert ev("Not([IsSoftDeleted])", IsSoftDeleted="False") == "True"
    assert ev("Not([accountEnabled])", accountEnabled=True) == "False"
    assert ev("Not([x])") == "True"
    assert ev('Not("banana")') == "True"


UPN_RULES = (
    "SelectUniqueValue("
    'Join("@", Join(".", [PreferredFirstName], [PreferredLastName]), "contoso.com"), '
    'Join("@", Join(".", Mid([PreferredFirstName], 1, 1), [PreferredLastName]), "contoso.com"), '
    'Join("@", Join(".", Mid([PreferredFirstName], 1, 2), [PreferredLastName]), "contoso.com"))'
)
JOHN = {"PreferredFirstName": "John", "PreferredLastName": "Smith"}


@pytest.mark.parametrize(
    "existing, expected",
    [
        ((), "John.Smith@contoso.com"),
        (("John.Smith@contoso.com",), "J.Smith@contoso.com"),
        (("John.Smith@contoso.com", "J.Smith@contoso.com"), "Jo.Smith@contoso.com"),
    ],
)
def test_select_unique_value_takes_the_first_candidate_free_in_the_target(existing, expected):
    target = Target(*existing)
    assert ev(UPN_RULES, JOHN, {"target": target, "target_attribute": "Username"}) == expected
    assert target.lookups == [
        ("Username", ["John.Smith@contoso.com", "J.Smith@contoso.com", "Jo.Smith@contoso.com"])
    ], "all candidates are checked in one look-up"


def test_select_unique_value_fails_the_user_when_every_candidate_is_taken():
    target = Target("a", "b")
    with pytest.raises(EvaluationError, match="every candidate is already used by Username in the target: 'a', 'b'"):
        ev('SelectUniqueValue("a", [x], "b")', lookups={"target": target, "target_attribute": "Username"})


def test_select_unique_value_never_guesses_without_a_target_and_skips_empty_rules():
    with pytest.raises(EvaluationError, match="cannot be checked for uniqueness here"):
        ev('SelectUniqueValue([a], "x")')
    assert ev("SelectUniqueValue([a], [b])", lookups={"target": Target(), "target_attribute": "Username"}) is None


def test_switch_matches_keys_case_sensitively_and_falls_back_to_the_default():
    text = 'Switch([statusFlag], "Default Value", "true", "1", "", "0")'
    assert ev(text, statusFlag="true") == "1"
    assert ev(text, statusFlag="TRUE") == "Default Value"
    assert ev(text, statusFlag="") == "0"
    assert ev(text) == "0"


def test_switch_documented_country_example_and_skipped_default():
    assert ev('Switch([country], [country], "", "Other")', country="FR") == "FR"
    assert ev('Switch([country], [country], "", "Other")') == "Other"
    assert ev('Switch([country], , "US", "United States")', country="FR") is None


def test_errors_inside_a_function_name_the_function():
    with pytest.raises(EvaluationError) as caught:
        ev('Mid("abc", "x", 1)')
    assert caught.value.function == "Mid"
    assert "must be a whole number" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        'IIF(IgnoreFlowIfNullOrEmpty([region]), "a", "b")',
        'IIF(IgnoreFlowIfNullOrEmpty([region]) = "x", "a", "b")',
        'IIF([country] = "USA", Append(IgnoreFlowIfNullOrEmpty([region]), "-US"), "b")',
        'Switch(IgnoreFlowIfNullOrEmpty([region]), "default", "IGNORE_FLOW", "v")',
        'Switch([country], "default", IgnoreFlowIfNullOrEmpty([region]), "v")',
        'CBool(IgnoreFlowIfNullOrEmpty([region]) = "x")',
        'Coalesce(IgnoreFlowIfNullOrEmpty([region]), "d")',
    ],
)
def test_ignore_flow_inside_iif_and_other_functions_drops_the_whole_attribute(text):
    assert ev(text, country="USA") is IGNORE_FLOW
    assert ev(text, country="USA", region="") is IGNORE_FLOW


def test_ignore_flow_in_a_branch_not_taken_drops_nothing():
    assert ev('IIF([country] = "USA", "US", IgnoreFlowIfNullOrEmpty([region]))', country="USA") == "US"
    assert ev('IgnoreFlowIfNullOrEmpty(IIF([country]="USA",[region],""))', country="USA", region="West") == "West"
    assert ev('IgnoreFlowIfNullOrEmpty(IIF([country]="USA",[region],""))', country="FR") is IGNORE_FLOW


def test_iif_condition_fails_when_an_attribute_it_reads_is_null_or_empty():
    """Microsoft's known limitation, with its own examples."""
    assert ev('IIF(IsNullOrEmpty([country]),"Other",[country])') is None
    assert ev('IIF(IsNullOrEmpty([country]),"Other",[country])', country="") == ""
    assert ev('IIF(IsPresent([country]),[country],"Other")') == "Other"
    assert ev('IIF(IsPresent([country]),[country],"Other")', country="FR") == "FR"
    assert ev('Switch([country],[country],"","Other")') == "Other"
