"""Microsoft's documented examples of the expression language, one row each, with the documented outputs.

Sources (Microsoft Learn, current published versions):
- FUNCTIONS: "Reference for writing expressions for attribute mappings in Microsoft Entra Application Provisioning"
  (functions-for-customizing-application-data), the anchor of each row is its section.
- MAP: "Tutorial - Customize Microsoft Entra attribute mappings in Application Provisioning"
  (customize-application-attributes), where the app-role functions and "Default value if null" are documented.

A row is an "example" when the page gives the input and the output, a "rule" when the page states the output in
prose (Left's "If numChars = 0, return empty string", DefaultDomain's description) and the row applies it to an
input of ours. Where the page contradicts itself the row's `contradiction` says so and which reading is chosen.
Outputs are written as Entra prints them (numbers and booleans are text; a multi-valued result is a list).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mappings.expressions import Redacted

FUNCTIONS = "functions-for-customizing-application-data"
MAP = "customize-application-attributes"


@dataclass(frozen=True)
class Dropped:
    """IgnoreFlowIfNullOrEmpty drops the target attribute from the flow."""


@dataclass(frozen=True)
class Fails:
    """The expression fails for this user with a message containing `message`."""

    message: str


@dataclass(frozen=True)
class Refused:
    """The expression is refused when it is saved, with a message containing `message`."""

    message: str


@dataclass(frozen=True)
class Shape:
    """An output documented by its properties (a random or generated value), checked by `check`."""

    description: str
    check: Any = field(compare=False)


DROPPED = Dropped()


@dataclass(frozen=True)
class Row:
    section: str  # "<page>#<section anchor>"
    expression: str
    expected: Any
    user: dict[str, Any] = field(default_factory=dict)
    kind: str = "example"  # or "rule"
    texts: tuple[str, ...] | None = None  # complex values: the JSON text of each, as documented
    now: datetime | None = None
    tenant_domain: str | None = None
    existing: tuple[str, ...] | None = None  # values the target already holds (SelectUniqueValue)
    contradiction: str = ""  # where the page contradicts itself, and the reading chosen
    note: str = ""  # how an output stated in prose is read

    @property
    def id(self) -> str:
        return f"{self.section.split('#')[-1]}: {self.expression[:70]}"


@dataclass(frozen=True)
class Skip:
    section: str
    text: str
    reason: str


def _fn(anchor: str) -> str:
    return f"{FUNCTIONS}#{anchor}"


HIRE = {"StatusHireDate": "2012-03-16-07:00"}
JOHN_DOE = {"givenName": "John", "surname": "Doe"}
JOHN_SMITH = {"PreferredFirstName": "John", "PreferredLastName": "Smith"}
ADMIN_ROLE = {"id": "06b07648-ecfe-589f-9d2f-6325724a46ee", "value": "Admin", "displayName": "Admin"}
USER_ROLE = {"id": "06b07648-ecfe-599f-9d2f-6325724a46ee", "value": "User", "displayName": "User"}
TEST_ROLE = {"id": "1f2e3d4c-0000-4000-8000-000000000001", "value": "Test", "displayName": "Test"}
ROLE = "WindowsAzureActiveDirectoryRole"
SELECT_UPN = (
    "SelectUniqueValue( "
    'Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), '
    '"contoso.com"), '
    'Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), '
    '"contoso.com"), '
    'Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 2), [PreferredLastName]))), '
    '"contoso.com") )'
)
LEN_ALIAS = (
    'IIF(Len([LastName]) <= 5,  \n\n  Left(Join ("",[LastName],[FirstName]),10),  \n'
    '  Join("", Mid([LastName],1,9), Mid([FirstName],1,1)) \n\n)'
)
PROXY_ADDRESSES = (
    'Split(\n    Join(",",\n        Append("smtp:", Join("@", NormalizeDiacritics(StripSpaces(Join(".", [givenName], '
    '[surname]))), "contoso.onmicrosoft.com")),\n        Append("SMTP:", Join("@", NormalizeDiacritics(StripSpaces('
    'Join(".", [givenName], [surname]))), "contoso.com"))\n    ),\n    ","\n)'
)
ACTIVE_SOON = (
    'Switch([Active], , \n  "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), \n'
    '  "0", "False")'
)
NOW = datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)


def _is_guid(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", value) is not None


def _counts(value: str) -> tuple[int, int, int, int]:
    return (
        sum(c in string.digits for c in value),
        sum(not c.isalnum() for c in value),
        sum(c in string.ascii_uppercase for c in value),
        sum(c in string.ascii_lowercase for c in value),
    )


def _random(length: int, digits: int, special: int, capital: int, lower: int, avoid: str = ""):
    def check(value: Any) -> bool:
        if not isinstance(value, str) or len(value) != length or any(c in value for c in avoid):
            return False
        found = _counts(value)
        return all(got >= wanted for got, wanted in zip(found, (digits, special, capital, lower), strict=True))

    return check


def _redacted(expected: str | None = None, length: int | None = None):
    def check(value: Any) -> bool:
        if not isinstance(value, Redacted):
            return False
        return (expected is None or value == expected) and (length is None or len(value) == length)

    return check


# Microsoft's NormalizeDiacritics table, one entry per cell: the characters as the page lists them -> the letter.
DIACRITICS_TABLE = {
    "ä, à, â, ã, å, á, ą, ă, ā, ā́, ā̀, ā̂, ā̃, ǟ, ā̈, ǡ, a̱, å̄": "a",
    "Ä, À, Â, Ã, Å, Á, Ą, Ă, Ā, Ā́, Ā̀, Ā̂, Ā̃, Ǟ, Ā̈, Ǡ, A̱, Å̄": "A",
    "æ, ǣ": "ae",
    "Æ, Ǣ": "AE",
    "ç, č, ć, c̄, c̱": "c",
    "Ç, Č, Ć, C̄, C̱": "C",
    "ď, d̄, ḏ": "d",
    "Ď, D̄, Ḏ": "D",
    "ë, è, é, ê, ę, ě, ė, ē, ḗ, ḕ, ē̂, ē̃, ê̄, e̱, ë̄, e̊̄": "e",
    "Ë, È, É, Ê, Ę, Ě, Ė, Ē, Ḗ, Ḕ, Ē̂, Ē̃, Ê̄, E̱, Ë̄, E̊̄": "E",
    "ğ, ḡ, g̱": "g",
    "Ğ, Ḡ, G̱": "G",
    "ï, î, ì, í, ı, ī, ī́, ī̀, ī̂, ī̃, i̱": "i",
    "Ï, Î, Ì, Í, İ, Ī, Ī́, Ī̀, Ī̂, Ī̃, I̱": "I",
    "ľ, ł, l̄, ḹ, ḻ": "l",
    "Ł, Ľ, L̄, Ḹ, Ḻ": "L",
    "ñ, ń, ň, n̄, ṉ": "n",
    "Ñ, Ń, Ň, N̄, Ṉ": "N",
    "ö, ò, ő, õ, ô, ó, ō, ṓ, ṑ, ō̂, ō̃, ȫ, ō̈, ǭ, ȭ, ȱ, o̱": "o",
    "Ö, Ò, Ő, Õ, Ô, Ó, Ō, Ṓ, Ṑ, Ō̂, Ō̃, Ȫ, Ō̈, Ǭ, Ȭ, Ȱ, O̱": "O",
    "ø, ø̄, œ̄": "oe",
    "Ø, Ø̄, Œ̄": "OE",
    "ř, r̄, ṟ, ṝ": "r",
    "Ř, R̄, Ṟ, Ṝ": "R",
    "ß": "ss",
    "š, ś, ș, ş, s̄, s̱": "s",
    "Š, Ś, Ș, Ş, S̄, S̱": "S",
    "ť, ț, t̄, ṯ": "t",
    "Ť, Ț, T̄, Ṯ": "T",
    "ü, ù, û, ú, ů, ű, ū, ū́, ū̀, ū̂, ū̃, u̇̄, ǖ, ṻ, ṳ̄, u̱": "u",
    "Ü, Ù, Û, Ú, Ů, Ű, Ū, Ū́, Ū̀, Ū̂, Ū̃, U̇̄, Ǖ, Ṻ, Ṳ̄, U̱": "U",
    "ÿ, ý, ȳ, ȳ́, ȳ̀, ȳ̃, y̱": "y",
    "Ÿ, Ý, Ȳ, Ȳ́, Ȳ̀, Ȳ̃, Y̱": "Y",
    "ź, ž, ż, z̄, ẕ": "z",
    "Ź, Ž, Ż, Z̄, Ẕ": "Z",
}

# fmt: off
ROWS: list[Row] = [
    # Syntax overview
    Row(_fn("syntax-overview"), '"Company name: \\"Contoso\\""', 'Company name: "Contoso"'),
    # Append
    Row(_fn("append"), 'Append([userPrincipalName], ".test")', "John.Doe@contoso.com.test",
        {"userPrincipalName": "John.Doe@contoso.com"}),
    # AppRoleAssignmentsComplex, AssertiveAppRoleAssignmentsComplex, SingleAppRoleAssignment (MAP's role section)
    Row(f"{MAP}#provisioning-a-role-to-a-scim-app", "AppRoleAssignmentsComplex([appRoleAssignments])",
        [{"primary": False, "type": ROLE, "displayName": "Admin", "value": "Admin"},
         {"primary": False, "type": ROLE, "displayName": "User", "value": "User"}],
        {"appRoleAssignments": [ADMIN_ROLE, USER_ROLE]},
        texts=('{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"Admin","displayName":"Admin"}',
               '{"id":"06b07648-ecfe-599f-9d2f-6325724a46ee","value":"User","displayName":"User"}')),
    Row(f"{MAP}#provisioning-a-role-to-a-scim-app", "AssertiveAppRoleAssignmentsComplex([appRoleAssignments])",
        [{"primary": False, "type": ROLE, "display": "User", "value": "User"},
         {"primary": False, "type": ROLE, "display": "Test", "value": "Test"}],
        {"appRoleAssignments": [USER_ROLE, TEST_ROLE]},
        texts=('{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"User","value":"User"}',
               '{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Test","value":"Test"}')),
    Row(f"{MAP}#provisioning-a-role-to-a-scim-app", "SingleAppRoleAssignment([appRoleAssignments])", "Admin",
        {"appRoleAssignments": [ADMIN_ROLE]}),
    Row(_fn("singleapproleassignment"), "SingleAppRoleAssignment([appRoleAssignments])", "Admin",
        {"appRoleAssignments": [USER_ROLE, ADMIN_ROLE]}, kind="rule",
        contradiction="FUNCTIONS says the function 'isn't supported' for users with several app role assignments, "
        "MAP that 'there's no guarantee which role is provisioned'. Reading: one role is provisioned and the user "
        "does not fail; this console always takes the role whose value is first in ordinal order."),
    Row(_fn("singleapproleassignment"), "SingleAppRoleAssignment([appRoleAssignments])", None,
        {"appRoleAssignments": []}, kind="rule"),
    # BitAnd
    Row(_fn("bitand"), "BitAnd(&HF, &HF7)", "7",
        contradiction="The page writes &HF as 00000111 (it is 00001111). Reading: the value of &HF, 00001111; "
        "11110111 AND 00001111 is 7, the documented result."),
    # CBool
    Row(_fn("cbool"), "CBool([attribute1] = [attribute2])", "True", {"attribute1": "x", "attribute2": "x"}),
    Row(_fn("cbool"), "CBool([attribute1] = [attribute2])", "False", {"attribute1": "x", "attribute2": "y"},
        kind="rule"),
    # CDate
    Row(_fn("cdate"), "CDate([StatusHireDate])", "3/16/2020 7:00:00 AM", {"StatusHireDate": "2020-03-16-07:00"}),
    Row(_fn("cdate"), 'CDate("2021-06-30+08:00")', "6/29/2021 4:00:00 PM"),
    Row(_fn("cdate"), 'CDate("2009-06-15T01:45:30-07:00")', "6/15/2009 8:45:30 AM"),
    # Coalesce
    Row(_fn("coalesce"), "Coalesce([mail],[userPrincipalName])", "John.Doe@contoso.com",
        {"mail": None, "userPrincipalName": "John.Doe@contoso.com"}),
    Row(_fn("coalesce"), 'Coalesce([mail],[userPrincipalName], "")', "", kind="rule"),
    Row(_fn("coalesce"), "Coalesce([mail],[userPrincipalName])", None, kind="rule"),
    # ConvertToBase64, ConvertToUTF8Hex
    Row(_fn("converttobase64"), 'ConvertToBase64("Hello world!")', "SABlAGwAbABvACAAdwBvAHIAbABkACEA"),
    Row(_fn("converttoutf8hex"), 'ConvertToUTF8Hex("Hello world!")', "48656C6C6F20776F726C6421"),
    # Count
    Row(_fn("count"), "Count([proxyAddresses])", "3",
        {"proxyAddresses": ["SMTP:john@contoso.com", "smtp:jd@contoso.com", "smtp:j@contoso.com"]}, kind="rule"),
    # CStr
    Row(_fn("cstr"), "CStr([dn])", "cn=Joe,dc=contoso,dc=com", {"dn": "cn=Joe,dc=contoso,dc=com"}),
    # DateAdd
    Row(_fn("dateadd"), 'DateAdd("d", 7, CDate([StatusHireDate]))', "3/23/2012 7:00:00 AM", HIRE),
    Row(_fn("dateadd"), 'DateAdd("d", -10, CDate([StatusHireDate]))', "3/6/2012 7:00:00 AM", HIRE),
    Row(_fn("dateadd"), 'DateAdd("ww", 2, CDate([StatusHireDate]))', "3/30/2012 7:00:00 AM", HIRE),
    Row(_fn("dateadd"), 'DateAdd("m", 10, CDate([StatusHireDate]))', "1/16/2013 7:00:00 AM", HIRE),
    Row(_fn("dateadd"), 'DateAdd("yyyy", 2, CDate([StatusHireDate]))', "3/16/2014 7:00:00 AM", HIRE),
    # DateDiff
    *(
        Row(_fn("datediff"), f'DateDiff("{interval}", CDate([date1]), CDate([date2]))', expected,
            {"date1": date1, "date2": date2})
        for interval, date1, date2, expected in [
            ("d", "2021-08-18+08:00", "2021-08-31+08:00", "13"),
            ("d", "8/25/2021 5:41:18 PM", "2012-03-16-07:00", "-3449"),
            ("ww", "8/25/2021 5:41:18 PM", "2012-03-16-07:00", "-493"),
            ("m", "8/25/2021 5:41:18 PM", "2012-03-16-07:00", "-113"),
            ("yyyy", "8/25/2021 5:41:18 PM", "2012-03-16-07:00", "-9"),
            ("d", "2021-08-31+08:00", "2021-08-31+08:00", "0"),
            ("h", "2021-08-24", "2021-08-25", "24"),
            ("n", "2021-08-24", "2021-08-25", "1440"),
            ("s", "2021-08-24", "2021-08-25", "86400"),
        ]
    ),
    Row(_fn("datediff"), ACTIVE_SOON, "True", {"Active": "1", "StatusHireDate": "2024-03-08"}, kind="rule", now=NOW),
    Row(_fn("datediff"), ACTIVE_SOON, "False", {"Active": "1", "StatusHireDate": "2024-03-15"}, kind="rule", now=NOW),
    Row(_fn("datediff"), ACTIVE_SOON, "False", {"Active": "0", "StatusHireDate": "2024-03-08"}, kind="rule", now=NOW),
    # DateFromNum
    Row(_fn("datefromnum"), "DateFromNum(129699324000000000)", "1/1/2012 11:00:00 PM",
        note="'A DateTime representing January 1, 2012 at 11:00PM', written like every date of the language: "
        "M/d/yyyy h:mm:ss tt in UTC (CDate's remark)."),
    Row(_fn("datefromnum"), "DateFromNum([lastLogonTimestamp])", "1/1/2012 11:00:00 PM",
        {"lastLogonTimestamp": "129699324000000000"}),
    # DefaultDomain
    Row(_fn("defaultdomain"), 'Join("@", [mailNickname], DefaultDomain())', "jdoe@contoso.com",
        {"mailNickname": "jdoe"}, kind="rule", tenant_domain="contoso.com"),
    Row(_fn("defaultdomain"), "DefaultDomain()", Fails("the tenant has no default verified domain"), kind="rule",
        tenant_domain=""),
    # FormatDateTime
    Row(_fn("formatdatetime"), 'FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")',
        "2015-01-23", {"extensionAttribute1": "20150123105347.1Z"}),
    # Guid
    Row(_fn("guid"), "Guid()", Shape("a new random GUID such as 00aa00aa-bb11-cc22-dd33-44ee44ee44ee", _is_guid)),
    # IgnoreFlowIfNullOrEmpty
    Row(_fn("ignoreflowifnullorempty"), "IgnoreFlowIfNullOrEmpty([department])", DROPPED, {"department": None}),
    Row(_fn("ignoreflowifnullorempty"), "IgnoreFlowIfNullOrEmpty([department])", DROPPED, {"department": ""}),
    Row(_fn("ignoreflowifnullorempty"), "IgnoreFlowIfNullOrEmpty([department])", "Sales", {"department": "Sales"},
        kind="rule"),
    *(
        Row(_fn("ignoreflowifnullorempty"),
            'IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))',
            expected, {"prefix": prefix})
        for prefix, expected in [("3444", "Prof."), ("3445", "Prof. Dr."), ("1234", DROPPED)]
    ),
    Row(_fn("known-limitations"), 'IgnoreFlowIfNullOrEmpty(IIF([country]="USA",[region],""))', "West",
        {"country": "USA", "region": "West"}),
    Row(_fn("known-limitations"), 'IgnoreFlowIfNullOrEmpty(IIF([country]="USA",[region],""))', DROPPED,
        {"country": "France", "region": "West"}),
    # IIF
    Row(_fn("iif"), 'IIF([country]="USA",[country],[department])', "USA", {"country": "USA", "department": "Sales"}),
    Row(_fn("iif"), 'IIF([country]="USA",[country],[department])', "Sales",
        {"country": "France", "department": "Sales"}),
    *(
        Row(_fn("known-limitations"), 'IIF([country]="USA",IIF([state]="CA","True","False"),"False")', expected,
            {"country": country, "state": state})
        for country, state, expected in [("USA", "CA", "True"), ("USA", "NY", "False"), ("France", "CA", "False")]
    ),
    *(
        Row(_fn("known-limitations"), 'IIF([country]="USA","True",IIF([state]="CA","True","False"))', expected,
            {"country": country, "state": state})
        for country, state, expected in [("France", "CA", "True"), ("France", "NY", "False"), ("USA", "NY", "True")]
    ),
    Row(_fn("known-limitations"), 'IIF([country]="","Other",[country])', "", {"country": ""}, kind="rule",
        note="Listed as unsupported because 'the condition check fails' when the attribute is empty: the condition "
        "is false, so the value is [country] itself."),
    Row(_fn("known-limitations"), 'IIF(IsNullOrEmpty([country]),"Other",[country])', None, kind="rule",
        contradiction="IsNullOrEmpty of a missing attribute is True (its own section), yet the page says the "
        "condition check fails when the attribute is null. Reading: the IIF limitation wins; the value is null."),
    Row(_fn("known-limitations"), 'IIF(IsPresent([country]),[country],"Other")', "Other", kind="rule"),
    Row(_fn("known-limitations"), 'Switch([country],[country],"","Other")', "Other"),
    Row(_fn("known-limitations"), 'Switch([country],[country],"","Other")', "France", {"country": "France"}),
    # InStr
    Row(_fn("instr"), 'InStr("The quick brown fox","quick")', "5"),
    Row(_fn("instr"), 'InStr("repEated","e",3,vbBinaryCompare)', "7"),
    # IsNull, IsNullOrEmpty, IsPresent, IsString
    Row(_fn("isnull"), "IsNull([displayName])", "True"),
    Row(_fn("isnull"), "IsNull([displayName])", "False", {"displayName": ""}, kind="rule"),
    Row(_fn("isnullorempty"), "IsNullOrEmpty([displayName])", "True"),
    Row(_fn("isnullorempty"), "IsNullOrEmpty([displayName])", "True", {"displayName": ""}),
    Row(_fn("isnullorempty"), "IsNullOrEmpty([displayName])", "False", {"displayName": "John"}, kind="rule"),
    Row(_fn("ispresent"), "IsPresent([directManager])", "True", {"directManager": "Jane"}),
    Row(_fn("ispresent"), "IsPresent([directManager])", "False", {"directManager": ""}),
    Row(_fn("ispresent"), "IsPresent([directManager])", "False"),
    Row(_fn("isstring"), "IsString([displayName])", "True", {"displayName": "John Doe"}, kind="rule"),
    # Item
    Row(_fn("item"), "Item([proxyAddresses], 1)", "SMTP:john@contoso.com",
        {"proxyAddresses": ["SMTP:john@contoso.com", "smtp:jd@contoso.com"]}),
    # Join
    Row(_fn("join"), 'Join(";", [proxyAddresses], [mail])', "a@contoso.com;b@contoso.com;c@contoso.com",
        {"proxyAddresses": ["a@contoso.com", "b@contoso.com"], "mail": "c@contoso.com"}, kind="rule"),
    Row(_fn("add-a-comma-between-last-name-and-first-name"), 'Join(", ", "", [surname], [givenName])', "Doe, John",
        JOHN_DOE),
    # Left
    Row(_fn("left"), 'Left("John Doe", 3)', "Joh"),
    Row(_fn("left"), "Left([s], 0)", "", {"s": "John"}, kind="rule"),
    Row(_fn("left"), "Left([s], -1)", "John", {"s": "John"}, kind="rule"),
    Row(_fn("left"), "Left([s], 3)", "", kind="rule"),
    Row(_fn("left"), "Left([s], 9)", "John", {"s": "John"}, kind="rule"),
    # Len
    Row(_fn("len"), 'Len("John Doe")', "8"),
    Row(_fn("len"), "Len(42568)", "5"),
    Row(_fn("len"), "Len(42568.75)", "8"),
    Row(_fn("len"), "Len([s])", "0", kind="rule"),
    Row(_fn("len"), "Len([s])", "0", {"s": ""}, kind="rule"),
    Row(_fn("len"), LEN_ALIAS, "SmithJohn", {"FirstName": "John", "LastName": "Smith"}),
    Row(_fn("len"), LEN_ALIAS, "ParkerJ", {"FirstName": "John", "LastName": "Parker"}),
    # Mid
    Row(_fn("mid"), "Mid([source], 3, 10)", "hn", {"source": "John"}, kind="rule"),
    Row(_fn("generate-user-alias-by-concatenating-parts-of-first-and-last-name"),
        "Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))", "JohDoe", JOHN_DOE),
    # NormalizeDiacritics
    Row(_fn("normalizediacritics"), "NormalizeDiacritics([givenName])", "Zoe", {"givenName": "Zoë"}),
    *(
        Row(_fn("normalizediacritics"), "NormalizeDiacritics([source])", plain * len(listed.split(", ")),
            {"source": "".join(listed.split(", "))})
        for listed, plain in DIACRITICS_TABLE.items()
    ),
    # Not
    Row(_fn("not"), "Not([IsSoftDeleted])", "False", {"IsSoftDeleted": "True"}, kind="rule"),
    Row(_fn("not"), "Not([IsSoftDeleted])", "True", {"IsSoftDeleted": "False"}, kind="rule"),
    # Now
    Row(_fn("now"), "Now()", "7/2/2021 3:33:38 PM", now=datetime(2021, 7, 2, 15, 33, 38, tzinfo=UTC)),
    # NumFromDate
    Row(_fn("numfromdate"),
        'NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))',
        "132539615990000000", {"ContractEndDate": "2020-12-31-08:00"}, kind="rule"),
    Row(_fn("numfromdate"),
        'NumFromDate(Join("",FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")," 23:59:59-08:00"))',
        "132539615990000000", {"endDate": "12/31/2020 12:00:00 AM"}, kind="rule"),
    Row(_fn("numfromdate"), 'NumFromDate("2012-01-01T23:00:00Z")', "129699324000000000", kind="rule"),
    # PCase
    Row(_fn("pcase"), "PCase([firstName])", "Pablo Gonsalves (Second)", {"firstName": "PABLO GONSALVES (SECOND)"},
        contradiction="The page says PCase calls .NET's ToTitleCase, which leaves words in capitals as they are, "
        "yet shows 'Pablo Gonsalves (Second)'. Reading: the documented output."),
    Row(_fn("pcase"), "PCase([lastName],\" '-\")", "Pinto-De'Silva", {"lastName": "PINTO-DE'SILVA"}),
    Row(_fn("pcase"), 'PCase(Join(" ",[firstName],[lastName]))', "Gregory James",
        {"firstName": "GREGORY", "lastName": "JAMES"}),
    # RandomString
    Row(_fn("randomstring"), "RandomString(6,3,0,0,3)",
        Shape("6 characters: 3 numbers and 3 lower case letters (1a73qt)", _random(6, 3, 0, 0, 3)),
        contradiction="The parameter table asks Length >= the minimum numbers, special and capital characters "
        "(lower case left out). Reading: all four minimums must fit in Length, as both examples do."),
    Row(_fn("randomstring"), 'RandomString(10,2,2,2,1,"?,")',
        Shape("10 characters: at least 2 numbers, 2 special, 2 capital, 1 lower case, no ? or ,",
              _random(10, 2, 2, 2, 1, "?,"))),
    # Redact
    Row(_fn("redact"), "Redact([userPrincipalName])",
        Shape("the value flows, the logs show [Redact]", _redacted("John.Doe@contoso.com")),
        {"userPrincipalName": "John.Doe@contoso.com"},
        contradiction="The signature reads Redact() yet the parameter table has a required attribute/value. "
        "Reading: one argument, as every example passes one."),
    Row(_fn("redact"), 'Redact("StringToBeRedacted")',
        Shape("the value flows, the logs show [Redact]", _redacted("StringToBeRedacted"))),
    Row(_fn("redact"), "Redact(RandomString(6,3,0,0,3))",
        Shape("a random string that the logs show as [Redact]", _redacted(length=6))),
    # RemoveDuplicates
    Row(_fn("removeduplicates"), "RemoveDuplicates([proxyAddresses])",
        ["SMTP:john@contoso.com", "smtp:jd@contoso.com"],
        {"proxyAddresses": ["SMTP:john@contoso.com", "smtp:jd@contoso.com", "smtp:jd@contoso.com"]}, kind="rule"),
    # Replace
    Row(_fn("replace-characters-using-a-regular-expression"),
        'Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )', "Software Engineer",
        {"BusinessTitle": "Product Developer"}),
    Row(_fn("replace-characters-using-a-regular-expression"),
        'Replace([UserID],"<username>", , , , , "<username>@contoso.com")', "jsmith@contoso.com", {"UserID": "jsmith"}),
    Row(_fn("replace-characters-using-a-regular-expression"),
        'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", , "${phoneNumber}", , )',
        "9998887777", {"telephoneNumber": "+91 9998887777"}),
    Row(_fn("replace-characters-using-a-regular-expression"), 'Replace([mobile], , "[()\\\\s-]+", , "", , )',
        "+19998887777", {"mobile": "+1 (999) 888-7777"},
        contradiction="The page gives 19998887777, but its pattern [()\\s-]+ does not remove the '+'. Reading: "
        "what the pattern does (+19998887777); the regular expression is run as written."),
    Row(_fn("replace-characters-using-a-regular-expression"),
        'Replace([AddressLineData], ,"(?<streetNumber>^\\\\d*)","streetNumber", "888", , )', "888 Tremont Street",
        {"AddressLineData": "545 Tremont Street"}),
    Row(_fn("replace-characters-using-a-regular-expression"),
        'Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )', "jsmith",
        {"userPrincipalName": "jsmith@contoso.com"}),
    Row(_fn("replace-characters-using-a-regular-expression"),
        'Replace([telephoneNumber], , "\\\\+(?<isdCode>\\\\d* )(?<phoneNumber>\\\\d{10})", "phoneNumber" , , '
        "[mobile], )",
        "8887779999", {"telephoneNumber": "", "mobile": "+91 8887779999"}),
    Row(_fn("replace-characters-using-a-regular-expression"), 'Replace([mailNickname], , "[a-zA-Z_]*", , "", , )', "72",
        {"mailNickname": "john_doe72"},
        contradiction="The page labels the input 'oldValue: john_doe72'; no oldValue is given. Reading: it is the "
        "value of the source [mailNickname]."),
    Row(_fn("strip-known-domain-name"), 'Replace([mail], "@contoso.com", , ,"", ,)', "john.doe",
        {"mail": "john.doe@contoso.com"}),
    Row(_fn("generate-an-id-for-a-user-based-on-their-microsoft-entra-object-id-remove-any-letters-from-the-id-"
            "and-add-1000-at-the-beginning"),
        'Join("", 1000, Replace(ConvertToUTF8Hex([objectId]), , "[a-zA-Z_]*", , "", , ))',
        "100030306161303061612626231312636332322646433332343465653434656534346565",
        {"objectId": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"},
        contradiction="The page's output (1000643035653437...) belongs to another object ID than its input "
        "00aa00aa-bb11-cc22-dd33-44ee44ee44ee (the UTF-8 hex of '0' is 30, so the digits must start 3030). "
        "Reading: the output of the documented input."),
    # SelectUniqueValue
    Row(_fn("generate-unique-value-for-userprincipalname-upn-attribute"), SELECT_UPN, "John.Smith@contoso.com",
        JOHN_SMITH, existing=()),
    Row(_fn("generate-unique-value-for-userprincipalname-upn-attribute"), SELECT_UPN, "J.Smith@contoso.com",
        JOHN_SMITH, existing=("John.Smith@contoso.com",)),
    Row(_fn("generate-unique-value-for-userprincipalname-upn-attribute"), SELECT_UPN, "Jo.Smith@contoso.com",
        JOHN_SMITH, existing=("John.Smith@contoso.com", "J.Smith@contoso.com")),
    Row(_fn("selectuniquevalue"), SELECT_UPN, Fails("every candidate is already used"), JOHN_SMITH, kind="rule",
        existing=("John.Smith@contoso.com", "J.Smith@contoso.com", "Jo.Smith@contoso.com")),
    Row(_fn("selectuniquevalue"), 'ToLower(SelectUniqueValue([a], [b]))',
        Refused("SelectUniqueValue can only be used as the whole expression"), kind="rule"),
    # Split
    Row(_fn("split-a-string-into-a-multi-valued-array"), 'Split([extensionAttribute5], ",")',
        ["PermissionSetOne", "PermissionSetTwo"], {"extensionAttribute5": "PermissionSetOne, PermissionSetTwo"},
        contradiction="Split on ',' as .NET does it keeps the space before PermissionSetTwo; the page shows none. "
        "Reading: the documented output (white space around each value removed)."),
    # StripSpaces
    Row(_fn("stripspaces"), "StripSpaces([source])", "JohnvanDoe", {"source": "John van Doe"}, kind="rule"),
    # Switch
    Row(_fn("replace-a-value-based-on-predefined-set-of-options"),
        'Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", '
        '"Australia/Adelaide")', "Australia/Brisbane", {"state": "QLD"}),
    Row(_fn("replace-a-value-based-on-predefined-set-of-options"),
        'Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", '
        '"Australia/Adelaide")', "Australia/Sydney", {"state": "VIC"}, kind="rule"),
    *(
        Row(_fn("switch"), 'Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")', expected,
            {"statusFlag": flag})
        for flag, expected in [("True", "1"), ("TRUE", "1"), ("true", "1"), ("False", "0")]
    ),
    Row(_fn("switch"), 'Switch([statusFlag], "Default Value", "true", "1", "", "0")', "0", {"statusFlag": ""}),
    Row(_fn("switch"), 'Switch([statusFlag], "Default Value", "true", "1", "", "0")', "Default Value",
        {"statusFlag": "TRUE"}, kind="rule"),
    Row(_fn("switch"), 'IIF([companyName] = "Company A", "A", IIF([companyName] = "Company B", "B", "External"))',
        "B", {"companyName": "Company B"}),
    Row(_fn("switch"), 'IIF([companyName] = "Company A", "A", IIF([companyName] = "Company B", "B", "External"))',
        "External", {"companyName": "Contoso"}),
    Row(_fn("switch"),
        'IgnoreFlowIfNullOrEmpty(switch([companyName], [companyName], "Company A", "A", "Company B", "B"))',
        Refused("unknown function 'switch': did you mean 'Switch'?"),
        contradiction="The page writes switch in lower case here while stating that 'the syntax is case-sensitive'. "
        "Reading: case-sensitive, so the expression is refused with the right spelling suggested."),
    Row(f"{MAP}#understanding-attribute-mapping-properties",
        'Switch(IsPresent([jobTitle]), "DefaultValue", "True", [jobTitle])', "Engineer", {"jobTitle": "Engineer"},
        contradiction="MAP uses IsPresent as Switch's source while FUNCTIONS cautions against it. Reading: evaluated "
        'as written, IsPresent gives "True", which matches the key "True".'),
    Row(f"{MAP}#understanding-attribute-mapping-properties",
        'Switch(IsPresent([jobTitle]), "DefaultValue", "True", [jobTitle])', "DefaultValue"),
    # ToLower, ToUpper
    Row(_fn("convert-generated-userprincipalname-upn-value-to-lower-case"),
        'ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), '
        '"contoso.com"))', "john.smith@contoso.com", JOHN_SMITH),
    Row(_fn("toupper"), "ToUpper([givenName])", "JOHN", {"givenName": "John"}, kind="rule"),
    # Word
    Row(_fn("word"), 'Word("The quick brown fox",3," ")', "brown"),
    Row(_fn("word"), 'Word("This,string!has&many separators",3,",!&#")', "has"),
    Row(_fn("word"), 'Word("The quick brown fox",0," ")', "", kind="rule"),
    Row(_fn("word"), 'Word([s],1," ")', "", kind="rule"),
    Row(_fn("word"), 'Word("The quick brown fox",5," ")', "", kind="rule"),
    Row(_fn("word"), 'Word(",,,",1,",")', "", kind="rule"),
    # Examples: proxyAddresses
    Row(_fn("set-a-primary-smtp-address-in-proxyaddresses"),
        'Append("SMTP:", Join("@", Join(".", [givenName], [surname]), "contoso.com"))', "SMTP:John.Doe@contoso.com",
        JOHN_DOE),
    Row(_fn("set-primary-and-alias-addresses-in-proxyaddresses"), PROXY_ADDRESSES,
        ["smtp:John.Doe@contoso.onmicrosoft.com", "SMTP:John.Doe@contoso.com"], JOHN_DOE),
]

# fmt: on

SKIPS: list[Skip] = [
    Skip(
        _fn("known-limitations"),
        'IIF(IgnoreFlowIfNullOrEmpty([country]),[country],"Other")',
        "Documented as unsupported, with no output. (This console drops the attribute when [country] is empty: "
        "tested with the defect tests.)",
    ),
    Skip(
        _fn("item"),
        "Item([proxyAddresses], 0)",
        "Documented only as 'Index 0 shouldn't be used', with no output. (This console fails the user: "
        "'Item index is 1-based'.)",
    ),
    Skip(
        _fn("ispresent"),
        "Switch(IsPresent([country]), ...)",
        "A caution ('leads to unexpected matching behavior') without an input or an output.",
    ),
    Skip(
        _fn("switch"),
        'switch([companyName], "External", "Company A", "A", "Company B", "B")',
        "Describes an Entra defect (an attribute set to null when Entra ID is the source and Switch has a "
        "default) without a determinable output; this console does not reproduce the defect.",
    ),
    Skip(
        _fn("selectuniquevalue"),
        "SelectUniqueValue(... NormalizeDiacritics ...) for Active Directory",
        "About LDAP escaping in on-premises Active Directory, which has no counterpart in Salesforce.",
    ),
    Skip(
        _fn("tolower"),
        "caseExact in the target schema",
        "A schema setting of the target attribute, not an output of the function.",
    ),
]
