"""Evaluation: a checked tree is turned once into nested closures, then run per user.

Closures rather than walking the tree per user keep the per-attribute cost to a few function calls
(the whole default mapping evaluates in microseconds).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from mappings.expressions.checker import check
from mappings.expressions.constants import VB_CONSTANTS
from mappings.expressions.errors import EvaluationError, ExpressionError
from mappings.expressions.functions import FUNCTIONS
from mappings.expressions.nodes import Attribute, Call, Comparison, Missing, Node, Number, String, VbConstant, walk
from mappings.expressions.values import IGNORE_FLOW, MISSING, Context, is_empty, normalise, to_str

Compiled = Callable[[Context], Any]
IGNORE_FLOW_FUNCTION = "IgnoreFlowIfNullOrEmpty"
_FAILURES = (ValueError, TypeError, ArithmeticError, IndexError, KeyError, re.error, RecursionError)


def compile_node(node: Node) -> Compiled:
    """The closure computing `node` for a Context. The tree must have passed check()."""
    if isinstance(node, Attribute):
        name = node.name
        return lambda ctx: ctx.user.get(name)
    if isinstance(node, String | Number):
        value = node.value
        return lambda ctx: value
    if isinstance(node, VbConstant):
        number = VB_CONSTANTS[node.name]
        return lambda ctx: number
    if isinstance(node, Missing):
        return lambda ctx: MISSING
    if isinstance(node, Comparison):
        return _comparison(node)
    if isinstance(node, Call):
        return _call(node)
    raise TypeError(f"not an expression node: {node!r}")


def _missing(ctx: Context) -> Any:
    return MISSING


class _Dropped(Exception):
    """An argument of a lazy function was dropped by IgnoreFlowIfNullOrEmpty: so is the function's value."""


def _drops(node: Node) -> bool:
    """Whether IgnoreFlowIfNullOrEmpty appears in `node`: only then does its value need watching."""
    return any(isinstance(n, Call) and n.name == IGNORE_FLOW_FUNCTION for n in walk(node))


def _watched(run: Compiled) -> Compiled:
    def watched(ctx: Context) -> Any:
        value = run(ctx)
        if value is IGNORE_FLOW:
            raise _Dropped
        return value

    return watched


def _condition(node: Node, run: Compiled) -> Compiled:
    """IIF's condition. Microsoft: "If the source attribute used within the IIF function is empty or null, the
    condition check fails", so IIF(IsNullOrEmpty([country]), "Other", [country]) gives [country], not "Other"."""
    names = sorted({n.name for n in walk(node) if isinstance(n, Attribute)})
    if not names:
        return run

    def condition(ctx: Context) -> Any:
        value = run(ctx)  # first, so that IgnoreFlowIfNullOrEmpty in the condition still drops the attribute
        if value is not IGNORE_FLOW and any(is_empty(ctx.user.get(name)) for name in names):
            return False
        return value

    return condition


def _call(node: Call) -> Compiled:
    spec = FUNCTIONS.get(node.name)
    if spec is None:
        raise ExpressionError(f"unknown function '{node.name}'", node.position)
    args = [compile_node(arg) for arg in node.args]
    if node.name == "IIF":
        args[0] = _condition(node.args[0], args[0])
    watch = node.name != IGNORE_FLOW_FUNCTION and any(_drops(arg) for arg in node.args)
    if spec.lazy and watch:
        args = [_watched(run) if _drops(arg) else run for run, arg in zip(args, node.args, strict=True)]
    if spec.max_args is not None:
        args += [_missing] * (spec.max_args - len(args))
    impl, name = spec.impl, spec.name
    propagate = watch and not spec.lazy

    def fail(exc: Exception) -> EvaluationError:
        if isinstance(exc, EvaluationError):
            exc.function = exc.function or name
            return exc
        return EvaluationError(str(exc) or exc.__class__.__name__, name)

    if spec.lazy:

        def run_lazy(ctx: Context) -> Any:
            try:
                return impl(ctx, *args)
            except _Dropped:
                return IGNORE_FLOW
            except EvaluationError as exc:
                raise fail(exc)
            except _FAILURES as exc:
                raise fail(exc) from exc

        return run_lazy

    if len(args) == 1:
        (only,) = args

        def run_one(ctx: Context) -> Any:
            value = only(ctx)
            if propagate and value is IGNORE_FLOW:
                return IGNORE_FLOW
            try:
                return impl(ctx, value)
            except EvaluationError as exc:
                raise fail(exc)
            except _FAILURES as exc:
                raise fail(exc) from exc

        return run_one

    def run(ctx: Context) -> Any:
        values = [arg(ctx) for arg in args]
        if propagate and any(v is IGNORE_FLOW for v in values):
            return IGNORE_FLOW
        try:
            return impl(ctx, *values)
        except EvaluationError as exc:
            raise fail(exc)
        except _FAILURES as exc:
            raise fail(exc) from exc

    return run


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _comparison(node: Comparison) -> Compiled:
    """True/False (IGNORE_FLOW when IgnoreFlowIfNullOrEmpty dropped a side). Entra's rule: a condition over a null
    or empty attribute (or function result) is false; only literal operands may be empty. `=`/`<>` compare text
    case-sensitively; the ordering operators compare numbers when both sides are numbers, text (ordinal) otherwise."""
    left, right, op = compile_node(node.left), compile_node(node.right), node.op
    left_literal = isinstance(node.left, String | Number | VbConstant)
    right_literal = isinstance(node.right, String | Number | VbConstant)

    def compare(ctx: Context) -> Any:
        a, b = left(ctx), right(ctx)
        if a is IGNORE_FLOW or b is IGNORE_FLOW:
            return IGNORE_FLOW
        if (not left_literal and is_empty(a)) or (not right_literal and is_empty(b)):
            return False
        x, y = to_str(a) or "", to_str(b) or ""
        if op == "=":
            return x == y
        if op == "<>":
            return x != y
        nx, ny = _number(x), _number(y)
        if nx is not None and ny is not None:
            x, y = nx, ny  # type: ignore[assignment]
        if op == ">":
            return x > y
        if op == ">=":
            return x >= y
        if op == "<":
            return x < y
        return x <= y

    return compare


def evaluate(node: Node, user: Mapping[str, Any], *, now: datetime | None = None, **lookups: Any) -> Any:
    """The value of `node` for `user`: str | list | None | IGNORE_FLOW (Redacted and complex values kept).
    `lookups` are Context's directory, target and target_attribute. Raises EvaluationError when it fails for this
    user, ExpressionError when the tree is invalid."""
    return compile_expression(node)(user, now, **lookups)


def compile_expression(node: Node) -> Callable[..., Any]:
    """A checked, compiled expression: call it with (user, now=None, directory=, target=, target_attribute=) as
    often as needed."""
    check(node, check_attributes=False)
    run = compile_node(node)

    def evaluate_compiled(user: Mapping[str, Any], now: datetime | None = None, **lookups: Any) -> Any:
        return normalise(run(Context(user, now, **lookups)))

    return evaluate_compiled
