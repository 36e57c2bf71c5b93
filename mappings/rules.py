"""Rules a mapping row must follow beyond the validity of its expression (checked by the editor and the importer).

SelectUniqueValue (Microsoft: "can't be applied to attributes that have a matching precedence" and "only meant to be
used for entry creations"): on an update its first candidate, the user's own current value, is always taken, so
applying it Always would rename every user on every change.
"""

from __future__ import annotations

from mappings.expressions import Call, ExpressionError, parse

SELECT_UNIQUE_VALUE = "SelectUniqueValue"


def picks_unique_value(expression: str) -> bool:
    """Whether the expression is a SelectUniqueValue (only allowed as the whole expression)."""
    try:
        node = parse(expression)
    except ExpressionError:
        return False
    return isinstance(node, Call) and node.name == SELECT_UNIQUE_VALUE


def row_errors(expression: str, *, match_objects: bool, add_only: bool) -> list[str]:
    """What is wrong with a row computing `expression`, as sentences for the administrator."""
    if not picks_unique_value(expression):
        return []
    errors = []
    if match_objects:
        errors.append(
            "SelectUniqueValue cannot be used to match objects: it picks a value that is free in Salesforce, which "
            "by definition matches nobody. Untick Match objects using this attribute."
        )
    if not add_only:
        errors.append(
            "SelectUniqueValue works only when the user is created: set Apply this mapping to Only during object "
            "creation (on an update the user's own value is taken, so the next candidate would replace it)."
        )
    return errors
