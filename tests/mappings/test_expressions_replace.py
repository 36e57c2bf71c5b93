import pytest

from mappings.expressions import EvaluationError, ExpressionError

from .helpers import ev


def test_old_value_and_replacement_value_documented_mail_example():
    assert ev('Replace([mail], "@contoso.com", , , "", , )', mail="john.doe@contoso.com") == "john.doe"


def test_default_locale_mapping_turns_dashes_into_underscores():
    assert ev('Replace([preferredLanguage], "-", , , "_", , )', preferredLanguage="en-US") == "en_US"
    assert ev('Replace([preferredLanguage], "-", , , "_", , )') is None


def test_replace_is_case_sensitive():
    assert ev('Replace([x], "A", , , "b", , )', x="aA") == "ab"


def test_old_value_in_template_replaced_by_the_source():
    text = 'Replace([UserID], "<username>", , , , , "<username>@contoso.com")'
    assert ev(text, UserID="jdoe") == "jdoe@contoso.com"


def test_regex_with_named_group_in_the_replacement():
    text = r'Replace([telephoneNumber], , "\\+(?<isd>\\d* )(?<rest>.*)", , "(${isd}) ${rest}", , )'
    assert ev(text, telephoneNumber="+1 555 0100") == "(1 ) 555 0100"


def test_regex_numbered_groups_and_dollar_escape():
    assert (
        ev(r'Replace([x], , "(\\w+)@(\\w+)", , "$2 $$ $1 $&", , )', x="john@contoso") == "contoso $ john john@contoso"
    )


def test_regex_group_name_replaces_only_that_group():
    text = r'Replace([telephoneNumber], , "\\+(?<isd>\\d* )", "isd", "", , )'
    assert ev(text, telephoneNumber="+1 555 0100") == "+555 0100"


def test_regex_group_from_another_attribute_when_the_source_is_empty():
    text = r'Replace([mailNickname], , "(?<user>[^@]+)@", "user", , [userPrincipalName], )'
    assert ev(text, mailNickname="jd", userPrincipalName="john@contoso.com") == "jd"
    assert ev(text, userPrincipalName="john@contoso.com") == "john"
    assert ev(text, userPrincipalName="no-at-sign") is None


def test_invalid_regex_is_a_clear_error():
    with pytest.raises(ExpressionError, match="invalid regular expression '\\(': missing \\)"):
        ev('Replace([x], , "(", , "y", , )', x="a")
    with pytest.raises(EvaluationError, match="invalid regular expression"):  # a pattern read from an attribute
        ev('Replace([x], , [pattern], , "y", , )', x="a", pattern="(")


def test_a_replace_regex_that_backtracks_forever_is_a_per_user_error_not_a_hang():
    import time

    import pytest

    from mappings.expressions import EvaluationError, evaluate, parse

    node = parse('Replace([department], , "^(a|aa)+$", , "x", , )')
    started = time.monotonic()
    with pytest.raises(EvaluationError, match="took longer than"):
        evaluate(node, {"department": "a" * 40 + "!"})
    assert time.monotonic() - started < 5
