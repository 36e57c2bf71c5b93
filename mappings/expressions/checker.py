"""What a valid tree must be beyond syntax: known functions, arity, skippable slots, comparisons only in
conditions, Replace's modes, top-level-only functions and known attributes."""

from __future__ import annotations

from collections.abc import Iterable

from mappings.expressions.attributes import ADD_TO_LIST, ENTRA_USER_ATTRIBUTES, is_known_attribute, suggest
from mappings.expressions.dotnet_regex import compile_regex
from mappings.expressions.errors import ExpressionError
from mappings.expressions.functions import FUNCTIONS
from mappings.expressions.functions.replace import MODES, replace_mode
from mappings.expressions.nodes import Attribute, Call, Comparison, Missing, Node, String
from mappings.expressions.parser import parse

# Functions whose first argument is a condition and may therefore be a comparison.
CONDITION_FUNCTIONS = frozenset({"IIF", "CBool"})


def check(node: Node, known_attributes: Iterable[str] | None = None, *, check_attributes: bool = True) -> None:
    """Raise ExpressionError for the first problem in the tree; `known_attributes` None means Entra's user
    attributes (extension attributes are always accepted)."""
    known = frozenset(ENTRA_USER_ATTRIBUTES if known_attributes is None else known_attributes)
    if isinstance(node, Missing):
        raise ExpressionError("the expression is empty", node.position)
    _check(node, known if check_attributes else None, top=True, condition=False)


def _check(node: Node, known: frozenset[str] | None, *, top: bool, condition: bool) -> None:
    if isinstance(node, Comparison):
        if not condition:
            raise ExpressionError(
                f"comparison '{node.op}' is allowed only in the condition of IIF or CBool", node.position
            )
        for side in (node.left, node.right):
            _check(side, known, top=False, condition=False)
        return
    if isinstance(node, Attribute):
        if known is not None and not is_known_attribute(node.name, known):
            guess = suggest(node.name, known)
            hint = f": did you mean [{guess}]?" if guess else f"; {ADD_TO_LIST}"
            raise ExpressionError(f"unknown attribute [{node.name}]{hint}", node.position)
        return
    if not isinstance(node, Call):
        return
    spec = FUNCTIONS.get(node.name)
    if spec is None:
        guess = suggest(node.name, FUNCTIONS)
        hint = f": did you mean '{guess}'?" if guess else ""
        raise ExpressionError(f"unknown function '{node.name}'{hint}", node.position)
    count = len(node.args)
    if count < spec.min_args or (spec.max_args is not None and count > spec.max_args):
        raise ExpressionError(f"{node.name} expects {spec.arity_text()}, got {count}", node.position, spec.signature)
    if spec.top_level_only and not top:
        raise ExpressionError(f"{node.name} can only be used as the whole expression", node.position)
    if node.name == "Switch" and count % 2:
        raise ExpressionError(
            "Switch expects a source, a default value and then key/value pairs: one key has no value",
            node.position,
            spec.signature,
        )
    for index, arg in enumerate(node.args):
        if isinstance(arg, Missing):
            if not spec.may_skip(index):
                raise ExpressionError(
                    f"argument {index + 1} of {node.name} cannot be left empty", arg.position, spec.signature
                )
            continue
        _check(arg, known, top=False, condition=index == 0 and node.name in CONDITION_FUNCTIONS)
    if node.name == "Replace":
        filled = {i for i, arg in enumerate(node.args) if not isinstance(arg, Missing)}
        if replace_mode(filled) is None:
            modes = "; ".join(MODES.values())
            raise ExpressionError(
                f"Replace needs one of these sets of arguments: {modes}", node.position, spec.signature
            )
        _check_regex(node)


def _check_regex(node: Call) -> None:
    """A regexPattern written as a string is compiled now, as scoping filters' are, so a broken one is refused on
    save rather than failing every user; a regexGroupName written as a string must name a group of it."""
    pattern = node.args[2] if len(node.args) > 2 else None
    if not isinstance(pattern, String):
        return
    try:
        regex = compile_regex(pattern.value)
    except ValueError as exc:
        raise ExpressionError(str(exc), pattern.position) from None
    group = node.args[3] if len(node.args) > 3 else None
    if isinstance(group, String) and group.value and not regex.has_group(group.value):
        raise ExpressionError(
            f"the regular expression {pattern.value!r} has no group named {group.value!r}", group.position
        )


def validate(text: str, known_attributes: Iterable[str] | None = None) -> None:
    """Parse and check `text` as the editor saves it; raises ExpressionError with the column of the problem."""
    check(parse(text), known_attributes)
