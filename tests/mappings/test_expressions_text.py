import pytest

from mappings.expressions import EvaluationError, Redacted

from .helpers import Tenant, ev

JOHN = {
    "userPrincipalName": "John.Doe@contoso.com",
    "mail": "john.doe@contoso.com",
    "givenName": "John",
    "surname": "Doe",
}


def test_append_documented_sandbox_example():
    assert ev('Append([userPrincipalName], ".test")', JOHN) == "John.Doe@contoso.com.test"


def test_append_of_a_null_source_is_null_so_nothing_flows():
    assert ev('Append([mail], ".uat")', {}) is None
    assert ev("Append([mail], [nothing])", JOHN) == "john.doe@contoso.com"


def test_convert_to_base64_uses_utf16_little_endian():
    assert ev('ConvertToBase64("Hello world!")') == "SABlAGwAbABvACAAdwBvAHIAbABkACEA"
    assert ev("ConvertToBase64([x])") is None


def test_convert_to_utf8_hex():
    assert ev('ConvertToUTF8Hex("Hello world!")') == "48656C6C6F20776F726C6421"
    assert ev('ConvertToUTF8Hex("é")') == "C3A9"


def test_cstr_turns_numbers_and_booleans_into_strings():
    assert ev("CStr(42)") == "42"
    assert ev("CStr([accountEnabled])", accountEnabled=True) == "True"
    assert ev("CStr([x])") is None


def test_guid_is_a_new_random_guid():
    first, second = ev("Guid()"), ev("Guid()")
    assert len(first) == 36 and first.count("-") == 4 and first != second


def test_instr_documented_example_and_options():
    assert ev('InStr("The quick brown fox","quick")') == "5"
    assert ev('InStr("The quick brown fox","QUICK")') == "0"
    assert ev('InStr("The quick brown fox","QUICK", , "vbTextCompare")') == "5"
    assert ev('InStr("abcabc","b", 3)') == "5"
    assert ev('InStr("repEated","e",3,vbBinaryCompare)') == "7"
    assert ev('InStr("repEated","E",1,vbTextCompare)') == "2"
    assert ev('InStr("repEated","E",1,1)') == "2"
    assert ev('InStr([x],"b")') is None
    with pytest.raises(EvaluationError, match="compareType"):
        ev('InStr("a","b", 1, "vbSomething")')


def test_instr_compare_type_from_an_attribute_without_a_value_is_the_default():
    assert ev('InStr("aAb","b",1,[mode])', mode=[]) == "3"
    assert ev('InStr("aAb","B",1,[mode])', mode=[None]) == "0"
    assert ev('InStr("aAb","B",1,[mode])', mode=["vbTextCompare"]) == "3"


def test_join_documented_example_skips_empty_sources():
    assert ev('Join(", ", "", [surname], [givenName])', JOHN) == "Doe, John"


def test_join_takes_every_value_of_a_multi_valued_source_and_numbers():
    assert ev('Join(";", [proxyAddresses], 1000)', proxyAddresses=["a", "b"]) == "a;b;1000"
    assert ev('Join(",", [x], "")') is None


@pytest.mark.parametrize(
    "source, count, expected",
    [
        ('"John Doe"', 3, "Joh"),
        ('"John Doe"', 0, ""),
        ('"John Doe"', -1, "John Doe"),
        ('"Jo"', 8, "Jo"),
        ("[x]", 2, ""),
    ],
)
def test_left_documented_cases(source, count, expected):
    assert ev(f"Left({source}, {count})") == expected


def test_mid_is_one_based_and_stops_at_the_end():
    assert ev("Mid([userPrincipalName], 1, 8)", JOHN) == "John.Doe"
    assert ev('Mid("abcdef", 3, 2)') == "cd"
    assert ev('Mid("abcdef", 5, 10)') == "ef"
    assert ev('Mid("abc", 9, 2)') == ""
    assert ev("Mid([x], 1, 8)") is None
    with pytest.raises(EvaluationError, match="start must be 1 or more"):
        ev('Mid("abc", 0, 2)')


def test_normalize_diacritics_uses_microsofts_table():
    assert ev('NormalizeDiacritics("Zoë")') == "Zoe"
    assert ev('NormalizeDiacritics("äæøß")') == "aaeoess"
    assert ev('NormalizeDiacritics("ÆØÅ Łódź Škoda çñ")') == "AEOEA Lodz Skoda cn"
    assert ev('NormalizeDiacritics("plain 123")') == "plain 123"
    # Letters with two marks, and marks on letters that have no precomposed form, from Microsoft's current table.
    assert ev('NormalizeDiacritics("Ā́ ā̀ ǣ ø̄ Œ̄ u̇̄ e̊̄ ḹ Ṝ ȳ̃ ẕ c̱")') == "A a ae oe OE u e l R y z c"


def test_normalize_diacritics_handles_decomposed_input():
    assert ev("NormalizeDiacritics([n])", n="a\u0308") == "a"


def test_pcase_without_separators_title_cases_every_word():
    assert ev('PCase("pHilip K. DICK")') == "Philip K. Dick"
    assert ev('PCase("NEW YORK-new jersey")') == "New York-New Jersey"
    assert ev("PCase([x])") is None


def test_pcase_with_separators_breaks_words_only_there():
    assert ev('PCase("hello-world foo_bar", "_")') == "Hello-world foo_Bar"


def test_random_string_honours_the_minimums_and_avoided_characters():
    value = ev('RandomString(12, 3, 2, 3, 3, "0Oo")')
    assert len(value) == 12
    assert sum(c.isdigit() for c in value) >= 3
    assert sum(c.isupper() for c in value) >= 3
    assert sum(c.islower() for c in value) >= 3
    assert sum(not c.isalnum() for c in value) >= 2
    assert not set(value) & set("0Oo")


def test_random_string_refuses_impossible_requests():
    with pytest.raises(EvaluationError, match="between 1 and 256"):
        ev("RandomString(257, 0, 0, 0, 0)")
    with pytest.raises(EvaluationError, match="do not fit"):
        ev("RandomString(4, 2, 2, 2, 0)")


def test_redact_keeps_the_value_but_marks_it():
    value = ev("Redact([mail])", JOHN)
    assert value == "john.doe@contoso.com" and isinstance(value, Redacted)
    assert "john" not in repr(value)
    assert ev("Redact([x])") is None


def test_strip_spaces_removes_every_space():
    assert ev('StripSpaces(" a b  c ")') == "abc"


def test_to_lower_and_to_upper_with_optional_culture():
    assert ev("ToLower([userPrincipalName])", JOHN) == "john.doe@contoso.com"
    assert ev('ToUpper("istanbul", "tr-TR")') == "İSTANBUL"
    assert ev('ToLower("ISTANBUL", "tr-TR")') == "ıstanbul"
    assert ev('ToUpper("abc", "en-US")') == "ABC"
    # One character for one, as .NET does: no "SS" for ß, no ligature split, no combining dot after i.
    assert ev('ToUpper("Straße ﬁle")') == "STRAßE ﬁLE"
    assert ev('ToLower("İstanbul")') == "istanbul"
    assert ev("ToUpper([x])") is None


@pytest.mark.parametrize(
    "text, number, expected",
    [
        ('"The quick brown fox"', 3, "brown"),
        ('"This,string!has&many separators"', 3, "has"),
        ('"a  b"', 2, "b"),
        ('"one two"', 3, ""),
        ('"one two"', 0, ""),
        ("[x]", 1, ""),
    ],
)
def test_word_documented_cases(text, number, expected):
    assert ev(f'Word({text}, {number}, " ,!&")') == expected


def test_len_counts_characters_of_strings_and_numbers_as_written():
    assert ev('Len("John Doe")') == "8"
    assert ev("Len(42568)") == "5"
    assert ev("Len(42568.75)") == "8"
    assert ev("Len([x])") == "0"
    assert ev("Len([x])", x="") == "0"
    assert ev('IIF(Len([LastName]) <= 5, "short", "long")', LastName="Smith") == "short"


def test_default_domain_is_the_tenants_default_verified_domain():
    tenant = {"directory": Tenant("contoso.com")}
    assert ev('Join("@", [mailNickname], DefaultDomain())', None, tenant, mailNickname="jdoe") == "jdoe@contoso.com"
    with pytest.raises(EvaluationError, match="the tenant has no default verified domain"):
        ev("DefaultDomain()", lookups={"directory": Tenant(None)})
    with pytest.raises(EvaluationError, match="cannot be read here"):
        ev("DefaultDomain()")
