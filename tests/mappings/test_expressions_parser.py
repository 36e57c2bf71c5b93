from decimal import Decimal

import pytest

from mappings.expressions import (
    ENTRA_USER_ATTRIBUTES,
    Attribute,
    Call,
    Comparison,
    ExpressionError,
    Missing,
    Number,
    String,
    VbConstant,
    parse,
    unparse,
    validate,
)


def test_parses_nested_calls_attributes_strings_and_numbers():
    assert parse("Mid([userPrincipalName], 1, 8)") == Call(
        "Mid", (Attribute("userPrincipalName"), Number(1), Number(8))
    )
    assert parse('Append(ToLower([mail]), ".uat")') == Call(
        "Append", (Call("ToLower", (Attribute("mail"),)), String(".uat"))
    )


def test_skipped_optional_arguments_become_missing_slots():
    tree = parse('Replace([mail], "@contoso.com", , , "", , )')
    assert tree.args == (
        Attribute("mail"),
        String("@contoso.com"),
        Missing(),
        Missing(),
        String(""),
        Missing(),
        Missing(),
    )


def test_string_escapes_quote_and_backslash_and_keep_other_backslashes():
    assert parse(r'"Company name: \"Contoso\""') == String('Company name: "Contoso"')
    assert parse(r'"a\\b"') == String("a\\b")
    assert parse(r'"\\+(?<isd>\\d* )"') == String(r"\+(?<isd>\d* )")
    assert parse(r'"\d+"') == String(r"\d+")


def test_hex_and_negative_numbers():
    assert parse("BitAnd(&HF, &hf7)").args == (Number(15, hex=True), Number(0xF7, hex=True))
    assert parse('DateAdd("d", -7, [x])').args[1] == Number(-7)


def test_decimal_numbers_are_read_and_printed_back_as_written():
    assert parse("Len(42568.75)").args == (Number(Decimal("42568.75")),)
    assert parse("-0.5") == Number(Decimal("-0.5"))
    assert unparse(parse("Len(42568.750)")) == "Len(42568.750)"
    assert unparse(parse("Len(0.0000001)")) == "Len(0.0000001)"


def test_vb_constants_are_bare_words_as_microsoft_writes_them():
    tree = parse('InStr("repEated", "e", 3, vbBinaryCompare)')
    assert tree.args[3] == VbConstant("vbBinaryCompare")
    assert unparse(tree) == 'InStr("repEated", "e", 3, vbBinaryCompare)'
    validate('InStr([a], "x", 1, vbTextCompare)', ["a"])


def test_bare_attribute_string_and_number_are_whole_expressions():
    assert parse("[givenName]") == Attribute("givenName")
    assert parse(' "United States" ') == String("United States")
    assert parse("42") == Number(42)


def test_comparison_operators_inside_conditions():
    for op in ("=", "<>", ">", ">=", "<", "<="):
        tree = parse(f'IIF([a] {op} "1", "y", "n")')
        assert tree.args[0] == Comparison(op, Attribute("a"), String("1"))


def test_positions_are_recorded_for_error_messages():
    tree = parse("Append([mail],  Mid([x], 1, 2))")
    assert tree.args[1].position == 16


def test_unparse_is_canonical_and_keeps_empty_slots():
    text = 'Replace([mail], "@contoso.com", , , "", , )'
    assert unparse(parse(text)) == text
    assert unparse(parse('IIF([a]="x",&HFF,"q\\"")')) == 'IIF([a] = "x", &HFF, "q\\"")'


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("Mid([a], 1)", "Mid expects 3 arguments, got 2", 1),
        ('Append("x", Mid([a], 1))', "Mid expects 3 arguments, got 2", 13),
        ("mid([a], 1, 2)", "unknown function 'mid': did you mean 'Mid'?", 1),
        ("Frobnicate([a])", "unknown function 'Frobnicate'", 1),
        ("Append([givenname], 1)", "unknown attribute [givenname]: did you mean [givenName]?", 8),
        ("Append([a] = [b], 1)", "comparison '=' is allowed only in the condition of IIF or CBool", 12),
        ("Mid(, 1, 2)", "argument 1 of Mid cannot be left empty", 5),
        ('Replace([a], "x", , , , , )', "Replace needs one of these sets of arguments", 1),
        ('Switch([a], "d", "k", "v", "k2")', "Switch expects a source, a default value and then key/value pairs", 1),
        ("ToLower(SelectUniqueValue([a], [b]))", "SelectUniqueValue can only be used as the whole expression", 9),
        ("InStr([a])", "InStr expects 2 to 4 arguments, got 1", 1),
        ("Join([a])", "Join expects at least 2 arguments, got 1", 1),
        ('Replace([a], , "[a-z", , "", , )', "invalid regular expression '[a-z'", 16),
        ('Replace([a], , "(?<user>.*)@", "usr", "", , )', "the regular expression '(?<user>.*)@' has no group", 32),
        ('Replace([a], , "(.*)@", "2", "", , )', "the regular expression '(.*)@' has no group named '2'", 25),
    ],
)
def test_validation_errors_say_what_and_where(text, message, column):
    with pytest.raises(ExpressionError) as caught:
        validate(text, ["a", "b", "givenName", "surname"])
    assert caught.value.message.startswith(message)
    assert caught.value.column == column
    assert f"(column {column})" in str(caught.value)


def test_arity_error_reads_like_the_issue_and_gives_the_signature():
    with pytest.raises(ExpressionError) as caught:
        validate('IIF([a]="b", Mid([c], 1), "")', ["a", "c"])
    assert str(caught.value).startswith("Mid expects 3 arguments, got 2 (column 14)")
    assert "usage: Mid(source, start, length)" in str(caught.value)


@pytest.mark.parametrize(
    "text, message, column",
    [
        ('"abc', "string is missing its closing '\"'", 1),
        ("Append([mail", "attribute name is missing its closing ']'", 8),
        ('Append([mail], "x"', "Append( opened at column 1 is missing its closing ')'", 19),
        ("Append [mail]", "expected '(' after function name 'Append'", 8),
        ('Append([mail] "x")', "expected ',' or ')' in the arguments of Append", 15),
        ('Append([mail], "x") extra', "unexpected 'extra' after the end of the expression", 21),
        ('Append([mail] & "x")', "there is no '&' operator", 15),
        ("", "the expression is empty", 1),
        ("[]", "empty attribute name", 1),
        ("Append(&H, 1)", "hex number '&H' needs hexadecimal digits", 8),
        ("IIF([a] = [b] = [c], 1, 2)", "only one comparison is allowed", 15),
        ("Append(#, 1)", "unexpected character '#'", 8),
        ("Len(1.)", "a decimal number needs digits after its '.'", 6),
        ('InStr("a", "b", 1, vbFoo)', "'vbFoo' is neither a function call (add its parentheses) nor a VB constant", 20),
        ("Append(vbTextCompare", "Append( opened at column 1 is missing its closing ')'", 21),
    ],
)
def test_syntax_errors_say_what_and_where(text, message, column):
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.message.startswith(message)
    assert caught.value.column == column


def test_ten_thousand_character_limit():
    ok = 'Append("' + "x" * (10_000 - 14) + '", "")'
    assert len(ok) == 10_000
    parse(ok)
    with pytest.raises(ExpressionError, match="the limit is 10,000"):
        parse(ok + " ")


def test_deep_nesting_is_refused_not_a_crash():
    text = "ToLower(" * 500 + "[a]" + ")" * 500
    with pytest.raises(ExpressionError, match="nested more than"):
        parse(text)


def test_names_are_case_sensitive():
    with pytest.raises(ExpressionError, match="did you mean 'ToLower'"):
        validate("TOLOWER([mail])")


def test_a_directory_extension_is_known_only_once_in_the_attribute_list():
    text = "ToLower([extension_0123456789abcdef0123456789abcdef_costCenter])"
    with pytest.raises(ExpressionError, match="unknown attribute"):
        validate(text)
    validate(text, ENTRA_USER_ATTRIBUTES | {"extension_0123456789abcdef0123456789abcdef_costCenter"})
    validate("ToLower([extensionAttribute15])")  # onPremisesExtensionAttributes are Entra's own
    with pytest.raises(ExpressionError, match="unknown attribute"):
        validate("ToLower([extensionAttribute16])")


def test_validate_defaults_to_entra_user_attributes():
    validate('Append([userPrincipalName], ".uat")')
    validate("Not([IsSoftDeleted])")
    validate("SingleAppRoleAssignment([appRoleAssignments])")
    with pytest.raises(ExpressionError, match=r"did you mean \[surname\]"):
        validate("ToLower([surName])")
