"""Microsoft's documented examples of every function, run through the evaluator the engine and `mappings test` use.

Each row of conformance_table.ROWS is evaluated twice: as `mappings test` and the expression tester do
(compile_expression, the tester's evaluator) and as a cycle does (a compiled mapping row with the documented
expression), and both must give the documented output. SKIPS are the documented passages without a determinable
output, each reported with its reason.
"""

from __future__ import annotations

import pytest

from mappings.compiled import InvalidMappingError, MappingError, compile_mapping
from mappings.expressions import (
    FUNCTIONS,
    IGNORE_FLOW,
    Call,
    ComplexValue,
    EvaluationError,
    ExpressionError,
    compile_expression,
    parse,
    walk,
)
from mappings.models import AttributeMapping, FlowType, MappingType, ObjectMapping

from .conformance_table import ROWS, SKIPS, Dropped, Fails, Refused, Row, Shape
from .helpers import FIXED_NOW, Target, Tenant

# Every function on Microsoft's current list (functions-for-customizing-application-data), and the app-role
# function documented in customize-application-attributes.
PAGE_FUNCTIONS = frozenset(
    """
    Append AppRoleAssignmentsComplex BitAnd CBool CDate Coalesce ConvertToBase64 ConvertToUTF8Hex Count CStr DateAdd
    DateDiff DateFromNum DefaultDomain FormatDateTime Guid IgnoreFlowIfNullOrEmpty IIF InStr IsNull IsNullOrEmpty
    IsPresent IsString Item Join Left Len Mid NormalizeDiacritics Not Now NumFromDate PCase RandomString Redact
    RemoveDuplicates Replace SelectUniqueValue SingleAppRoleAssignment Split StripSpaces Switch ToLower ToUpper Word
    AssertiveAppRoleAssignmentsComplex
    """.split()
)
TARGET = "Title"


def _lookups(row: Row) -> dict:
    lookups: dict = {"target_attribute": TARGET}
    if row.tenant_domain is not None:
        lookups["directory"] = Tenant(row.tenant_domain or None)
    if row.existing is not None:
        lookups["target"] = Target(*row.existing)
    return lookups


def _as_tester(row: Row):
    """The value as `mappings test` computes it."""
    return compile_expression(parse(row.expression))(row.user, row.now or FIXED_NOW, **_lookups(row))


def _as_engine(row: Row) -> dict:
    """What a cycle would write to the target attribute mapped with the expression: {} when nothing flows."""
    unique = isinstance(parse(row.expression), Call) and parse(row.expression).name == "SelectUniqueValue"
    attribute = AttributeMapping(
        target_attribute=TARGET,
        mapping_type=MappingType.EXPRESSION,
        expression=row.expression,
        flow_type=FlowType.OBJECT_ADD_ONLY if unique else FlowType.ALWAYS,
    )
    compiled = compile_mapping(ObjectMapping(), attributes=[attribute], filters=[])
    lookups = {k: v for k, v in _lookups(row).items() if k != "target_attribute"}
    return compiled.evaluate(row.user, creating=True, now=row.now or FIXED_NOW, **lookups)


def _written(expected):
    """What the engine writes for a documented output: nothing for null, "" or an empty list."""
    return {} if expected in (None, "", []) else {TARGET: expected}


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_documented_example(row: Row):
    expected = row.expected
    if isinstance(expected, Refused):
        with pytest.raises(ExpressionError, match=expected.message):
            _as_tester(row)
        with pytest.raises(InvalidMappingError, match=expected.message):
            _as_engine(row)
        return
    if isinstance(expected, Fails):
        with pytest.raises(EvaluationError, match=expected.message):
            _as_tester(row)
        with pytest.raises(MappingError, match=expected.message):
            _as_engine(row)
        return
    value = _as_tester(row)
    written = _as_engine(row)
    if isinstance(expected, Dropped):
        assert value is IGNORE_FLOW
        assert written == {}
    elif isinstance(expected, Shape):
        assert expected.check(value), f"{value!r} is not {expected.description}"
        assert expected.check(written[TARGET])
    else:
        assert value == expected
        assert written == _written(expected)
    if row.texts is not None:
        assert all(isinstance(v, ComplexValue) for v in value)
        assert tuple(str(v) for v in value) == row.texts


@pytest.mark.parametrize("skip", SKIPS, ids=[s.text[:60] for s in SKIPS])
def test_documented_passage_without_a_determinable_output(skip):
    pytest.skip(f"{skip.section}: {skip.reason}")


def test_every_function_on_the_page_is_implemented_and_has_a_row():
    assert PAGE_FUNCTIONS <= set(FUNCTIONS), f"not implemented: {sorted(PAGE_FUNCTIONS - set(FUNCTIONS))}"
    covered = {n.name for row in ROWS for n in walk(parse(row.expression)) if isinstance(n, Call)}
    assert PAGE_FUNCTIONS <= covered, f"no documented row: {sorted(PAGE_FUNCTIONS - covered)}"


def test_every_contradiction_says_which_reading_was_chosen():
    for row in ROWS:
        if row.contradiction:
            assert "Reading:" in row.contradiction, row.id
