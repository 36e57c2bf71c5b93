"""Conditions and null handling: BitAnd, CBool, Coalesce, IIF, IgnoreFlowIfNullOrEmpty, IsNull, IsNullOrEmpty,
IsPresent, IsString, Not, Switch."""

from __future__ import annotations

from mappings.expressions.functions.registry import function
from mappings.expressions.values import IGNORE_FLOW, MISSING, TRUE, boolean, is_empty, is_null, is_true, to_int, to_str


@function("BitAnd(value1, value2)", 2)
def bit_and(ctx, value1, value2):
    """Bitwise AND of two integers: BitAnd(&HF, &HF7) = 7. Choice: a null operand gives null."""
    if is_null(value1) or is_null(value2):
        return None
    return to_int(value1, "BitAnd value1") & to_int(value2, "BitAnd value2")


@function("CBool(expression)", 1)
def cbool(ctx, value):
    """ "True" when the expression is true ("True" in any case, or a non-zero number), else "False"."""
    return boolean(is_true(value))


@function("Coalesce(source1, source2, ..., defaultValue)", 1, None, lazy=True)
def coalesce(ctx, *sources):
    """The first value that is not null, else null. The trailing defaultValue is simply the last candidate, so
    `""` works as a default. Choice: an empty multi-valued attribute counts as null; "" does not."""
    for source in sources:
        value = source(ctx)
        if not is_null(value) and not (isinstance(value, list) and not value):
            return value
    return None


@function("IIF(condition, valueIfTrue, valueIfFalse)", 3, lazy=True)
def iif(ctx, condition, if_true, if_false):
    """Only the chosen branch is evaluated. The condition is false when an attribute it reads is null or empty, as
    Microsoft documents (so IIF(IsNullOrEmpty([x]), ...) never takes its true branch; use Switch([x], [x], "", ...)).
    """
    return if_true(ctx) if is_true(condition(ctx)) else if_false(ctx)


@function("IgnoreFlowIfNullOrEmpty(expression)", 1)
def ignore_flow_if_null_or_empty(ctx, value):
    """Null or empty -> the target attribute is dropped from this flow (not sent at all). Used inside another
    function, wherever it is evaluated (an argument, IIF's condition or chosen branch, a Switch key), the drop applies
    to the whole attribute. Microsoft calls it unsupported in IIF's condition and advises
    IgnoreFlowIfNullOrEmpty(IIF(...)); dropping is the reading that never writes a wrong value."""
    return IGNORE_FLOW if is_empty(value) else value


@function("IsNull(expression)", 1)
def is_null_fn(ctx, value):
    """ "True" when the value is null (attribute absent)."""
    return boolean(is_null(value))


@function("IsNullOrEmpty(expression)", 1)
def is_null_or_empty(ctx, value):
    """ "True" when null or ""; the inverse of IsPresent."""
    return boolean(is_empty(value))


@function("IsPresent(expression)", 1)
def is_present(ctx, value):
    """ "True" when neither null nor ""."""
    return boolean(not is_empty(value))


@function("IsString(expression)", 1)
def is_string(ctx, value):
    """ "True" when the value can be evaluated as one string. Choice: null and multi-valued values cannot."""
    return boolean(not is_null(value) and not isinstance(value, list | tuple))


@function("Not(source)", 1)
def not_fn(ctx, value):
    """ "True" -> "False"; anything else (including null) -> "True", as documented. "true" in any case counts."""
    if value is True:
        return "False"
    text = to_str(value)
    return "False" if text is not None and text.lower() == TRUE.lower() else "True"


@function("Switch(source, defaultValue, key1, value1, key2, value2, ...)", 4, None, lazy=True, skippable=(1,))
def switch(ctx, source, default, *pairs):
    """The value of the first key equal (case-sensitive) to source; else defaultValue (null when skipped).
    A null source matches the key "" (Microsoft's advice for catching empty values)."""
    text = to_str(source(ctx)) or ""
    for i in range(0, len(pairs) - 1, 2):
        if to_str(pairs[i](ctx)) == text:
            return pairs[i + 1](ctx)
    value = default(ctx)
    return None if value is MISSING else value
