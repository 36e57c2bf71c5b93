"""Replace, with its five modes chosen by which optional arguments are filled in."""

from __future__ import annotations

from mappings.expressions.dotnet_regex import compile_regex, replacement
from mappings.expressions.errors import EvaluationError
from mappings.expressions.functions.registry import function
from mappings.expressions.values import MISSING, is_empty, to_str

SIGNATURE = (
    "Replace(source, oldValue, regexPattern, regexGroupName, replacementValue, replacementAttributeName, template)"
)
# Argument slots: 0 source, 1 oldValue, 2 regexPattern, 3 regexGroupName, 4 replacementValue,
# 5 replacementAttributeName, 6 template.
MODES = {
    (1, 4): "oldValue + replacementValue",
    (1, 6): "oldValue + template",
    (2, 4): "regexPattern + replacementValue",
    (2, 3, 4): "regexPattern + regexGroupName + replacementValue",
    (2, 3, 5): "regexPattern + regexGroupName + replacementAttributeName",
}


def replace_mode(filled: set[int]) -> tuple[int, ...] | None:
    """The mode for the set of filled optional slots (1-6), or None when no mode fits."""
    key = tuple(sorted(i for i in filled if i > 0))
    return key if key in MODES else None


@function(SIGNATURE, 5, 7, skippable=(1, 2, 3, 4, 5, 6))
def replace(ctx, source, old_value, pattern, group_name, replacement_value, replacement_attribute, template):
    """Case-sensitive replace, .NET regex syntax. The mode follows which arguments are given (checked when the
    expression is validated):
    - oldValue + replacementValue: every oldValue in source replaced;
    - oldValue + template: every oldValue in the template replaced by source;
    - regexPattern + replacementValue: regex replace, `${name}`/`$1` allowed in replacementValue;
    - regexPattern + regexGroupName + replacementValue: only the named group's matches replaced;
    - regexPattern + regexGroupName + replacementAttributeName: source if it has a value, otherwise the named
      group's match in the other attribute (null when it does not match).
    Choice: a given-but-null replacementValue counts as ""; a null source gives null (template mode too)."""
    args = (source, old_value, pattern, group_name, replacement_value, replacement_attribute, template)
    mode = replace_mode({i for i, arg in enumerate(args) if arg is not MISSING})
    if mode is None:
        raise EvaluationError("the filled-in arguments match none of Replace's five modes", "Replace")
    text = to_str(source)
    if mode == (2, 3, 5):
        if not is_empty(text):
            return text
        other = to_str(replacement_attribute)
        if other is None:
            return None
        match = _timed(_regex(pattern).search, other)
        return match.group(_group(group_name)) if match else None
    if text is None:
        return None
    new = to_str(replacement_value) or ""
    if mode == (1, 4):
        old = to_str(old_value) or ""
        return text.replace(old, new) if old else text
    if mode == (1, 6):
        old = to_str(old_value) or ""
        shape = to_str(template) or ""
        return shape.replace(old, text) if old else shape
    regex = _regex(pattern)
    if mode == (2, 4):
        return _timed(regex.sub, replacement(new), text)
    name = _group(group_name)

    def swap_group(match):
        try:
            start, end = match.span(name)
        except IndexError:
            raise EvaluationError(f"the pattern has no group named {name!r}", "Replace") from None
        if start < 0:
            return match.group(0)
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + new + whole[end - offset :]

    return _timed(regex.sub, swap_group, text)


def _regex(pattern):
    try:
        return compile_regex(to_str(pattern) or "")
    except ValueError as exc:
        raise EvaluationError(str(exc), "Replace") from None


def _timed(call, *args):
    """Run a regex search/sub; a pattern that runs past the time limit fails this user's value, not the cycle."""
    try:
        return call(*args)
    except ValueError as exc:
        raise EvaluationError(str(exc), "Replace") from None


def _group(name) -> str:
    return to_str(name) or ""
