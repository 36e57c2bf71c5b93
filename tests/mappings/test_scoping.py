import pytest

from mappings.models import ObjectMapping, ScopingClause, ScopingFilter
from mappings.scoping import (
    ClauseError,
    ClauseSpec,
    FilterSpec,
    ScopingEvaluationError,
    evaluate_clause,
    evaluate_scoping,
    filter_specs,
    validate_clause,
)


def passes(operator, value, actual, attribute="department"):
    user = {} if actual is None else {attribute: actual}
    return evaluate_clause(ClauseSpec(attribute, operator, value), user)[0]


@pytest.mark.parametrize(
    "operator, value, actual, expected",
    [
        ("EQUALS", "Sales", "Sales", True),
        ("EQUALS", "sales", "Sales", False),
        ("NOT EQUALS", "Sales", "Marketing", True),
        ("NOT EQUALS", "Sales", "Sales", False),
        ("Includes", "ale", "Sales", True),
        ("Includes", "ALE", "Sales", False),
        ("ENDS_WITH", "les", "Sales", True),
        ("ENDS_WITH", "Sal", "Sales", False),
        ("&", "Sales,Marketing", "Sales", True),
        ("&", "Marketing", "Sales", False),
        ("!&", "Marketing", "Sales", True),
        ("!&", "Sales,Marketing", "Sales", False),
        ("Greater_Than", "10", "11", True),
        ("Greater_Than", "10", "10", False),
        ("Greater_Than", "10", "9", False),
        ("Greater_Than_OR_EQUALS", "10", "10", True),
        ("Greater_Than_OR_EQUALS", "10", "9", False),
        ("REGEX MATCH", r".*\@contoso.com", "a@contoso.com", True),
        ("REGEX MATCH", r".*\@contoso.com", "a@fabrikam.com", False),
        ("NOT REGEX MATCH", r".*\@contoso.com", "a@fabrikam.com", True),
        ("NOT REGEX MATCH", r".*\@contoso.com", "a@contoso.com", False),
        ("REGEX MATCH", "(1[0-9][0-9][0-9][0-9][0-9][0-9])", "1234567", True),
        ("REGEX MATCH", "(1[0-9][0-9][0-9][0-9][0-9][0-9])", "234567", False),
        ("REGEX MATCH", "^(?<dept>Sal)es$", "Sales", True),
        ("IS NOT NULL", "", "x", True),
        ("IS NULL", "", "x", False),
    ],
)
def test_operators(operator, value, actual, expected):
    assert passes(operator, value, actual) is expected


def test_booleans():
    assert passes("IS TRUE", "", True, "accountEnabled") is True
    assert passes("IS TRUE", "", False, "accountEnabled") is False
    assert passes("IS FALSE", "", False, "accountEnabled") is True
    assert passes("IS TRUE", "", "true", "accountEnabled") is True
    assert passes("IS FALSE", "", "True", "accountEnabled") is False


@pytest.mark.parametrize(
    "operator, value",
    [
        ("EQUALS", "Sales"),
        ("NOT EQUALS", "Sales"),
        ("Includes", "a"),
        ("ENDS_WITH", "s"),
        ("&", "Sales"),
        ("!&", "Sales"),
        ("Greater_Than", "1"),
        ("Greater_Than_OR_EQUALS", "1"),
        ("REGEX MATCH", ".*"),
        ("NOT REGEX MATCH", "x"),
        ("IS TRUE", ""),
        ("IS FALSE", ""),
        ("IS NOT NULL", ""),
    ],
)
@pytest.mark.parametrize("empty", [None, ""])
def test_every_clause_over_a_null_or_empty_value_is_false(operator, value, empty):
    assert passes(operator, value, empty) is False


@pytest.mark.parametrize("empty", [None, ""])
def test_is_null_is_the_exception(empty):
    assert passes("IS NULL", "", empty) is True


def test_a_multi_valued_value_cannot_be_evaluated():
    with pytest.raises(ClauseError, match="multi-valued"):
        evaluate_clause(ClauseSpec("proxyAddresses", "Includes", "smtp"), {"proxyAddresses": ["smtp:a"]})


@pytest.mark.parametrize(
    ("clause", "user", "said"),
    [
        (ClauseSpec("employeeId", "Greater_Than", "10"), {"employeeId": "E-12"}, "is not a whole number"),
        (ClauseSpec("employeeId", "Greater_Than", "ten"), {"employeeId": "12"}, "'ten' is not a whole number"),
        (ClauseSpec("department", "REGEX MATCH", "(unclosed"), {"department": "Sales"}, "invalid regular expression"),
        (ClauseSpec("department", "LIKE", "x"), {"department": "Sales"}, "unknown operator"),
    ],
)
def test_a_clause_that_cannot_be_evaluated_makes_the_decision_unknown_not_out_of_scope(clause, user, said):
    with pytest.raises(ScopingEvaluationError, match=said) as caught:
        evaluate_scoping([FilterSpec("Only", (clause,))], user)
    assert "could not be evaluated" in caught.value.reasons[0]


def test_an_unknown_clause_does_not_matter_when_another_filter_passes_or_its_own_filter_failed():
    broken = ClauseSpec("employeeId", "Greater_Than", "10")
    user = {"employeeId": "E-12", "department": "HR"}
    passing = FilterSpec("HR", (ClauseSpec("department", "EQUALS", "HR"),))
    assert evaluate_scoping([FilterSpec("Broken", (broken,)), passing], user).in_scope is True
    failed = FilterSpec("Sales and numbers", (ClauseSpec("department", "EQUALS", "Sales"), broken))
    assert evaluate_scoping([failed], user).in_scope is False


SALES = FilterSpec("Sales", (ClauseSpec("department", "EQUALS", "Sales"), ClauseSpec("accountEnabled", "IS TRUE")))
CONTOSO = FilterSpec("Contoso", (ClauseSpec("userPrincipalName", "REGEX MATCH", r".*\@contoso.com"),))


def test_no_filter_means_everyone_is_in_scope():
    decision = evaluate_scoping([], {"department": "HR"})
    assert decision.in_scope and decision.reasons


def test_clauses_are_anded_and_reasons_read_like_provision_on_demand():
    decision = evaluate_scoping([SALES], {"department": "Sales", "accountEnabled": False})
    assert not decision.in_scope
    assert decision.reasons == [
        "Scoping filter 'Sales' department EQUALS Sales: passed",
        "Scoping filter 'Sales' accountEnabled IS TRUE: failed",
    ]


def test_filters_are_ored():
    user = {"department": "HR", "accountEnabled": True, "userPrincipalName": "a@contoso.com"}
    decision = evaluate_scoping([SALES, CONTOSO], user)
    assert decision.in_scope
    assert r"Scoping filter 'Contoso' userPrincipalName REGEX MATCH .*\@contoso.com: passed" in decision.reasons
    assert not evaluate_scoping([SALES, CONTOSO], {**user, "userPrincipalName": "a@fabrikam.com"}).in_scope


def test_a_failed_clause_over_an_empty_attribute_says_so():
    decision = evaluate_scoping([SALES], {"accountEnabled": True})
    assert decision.reasons[0] == "Scoping filter 'Sales' department EQUALS Sales: failed (department is empty)"


@pytest.mark.parametrize(
    "attribute, operator, value, message",
    [
        ("department", "REGEX MATCH", "(unclosed", "invalid regular expression"),
        ("department", "NOT REGEX MATCH", "[z-a]", "invalid regular expression"),
        ("employeeId", "Greater_Than", "ten", "compares whole numbers"),
        ("department", "LIKE", "x", "unknown operator"),
        ("department", "EQUALS", "", "needs a value"),
        ("appRoleAssignments", "EQUALS", "x", "cannot be used in a scoping filter"),
        ("", "IS NULL", "", "needs an attribute name"),
    ],
)
def test_validate_clause_refuses_what_entra_refuses(attribute, operator, value, message):
    with pytest.raises(ValueError, match=message):
        validate_clause(attribute, operator, value)


def test_validate_clause_accepts_valid_clauses():
    validate_clause("department", "REGEX MATCH", r"^(?<d>Sales)$")
    validate_clause("employeeId", "Greater_Than_OR_EQUALS", " 12 ")
    validate_clause("department", "IS NULL", "")


def test_model_instances_are_converted_to_specs(application):
    object_mapping = ObjectMapping.objects.get(application=application)
    sales = ScopingFilter.objects.create(object_mapping=object_mapping, title="Sales")
    ScopingClause.objects.create(scoping_filter=sales, attribute="department", operator="EQUALS", value="Sales")
    assert filter_specs(object_mapping.scoping_filters.all()) == [
        FilterSpec("Sales", (ClauseSpec("department", "EQUALS", "Sales"),))
    ]
    assert evaluate_scoping(object_mapping.scoping_filters.all(), {"department": "Sales"}).in_scope
    assert not evaluate_scoping(list(object_mapping.scoping_filters.all()), {"department": "HR"}).in_scope


def test_a_catastrophically_backtracking_regex_gives_up_with_a_reason_and_decides_nothing():
    spec = FilterSpec("Slow", (ClauseSpec("department", "REGEX MATCH", "^(a|aa)+$"),))
    with pytest.raises(ScopingEvaluationError) as caught:
        evaluate_scoping([spec], {"department": "a" * 40 + "!"})
    assert "catastrophic backtracking" in str(caught.value)
    assert "could not be evaluated" in " ".join(caught.value.reasons)
