"""Expression trees as Graph's attributeMappingSource trees and back.

Graph serialises a mapping source as {expression, name, type Attribute|Constant|Function, parameters[{key, value}]}.
Numbers become Constants (as in Entra's own exports: Mid's 1 and 8 are "1" and "8"); skipped optional arguments
are left out of `parameters`, so each argument carries its documented key to find its slot again.
"""

from __future__ import annotations

from typing import Any

from mappings.expressions import (
    FUNCTIONS,
    Attribute,
    Call,
    Comparison,
    ExpressionError,
    Missing,
    Node,
    Number,
    String,
    VbConstant,
    quote,
    unparse,
)
from mappings.expressions.constants import VB_CONSTANTS
from mappings.expressions.nodes import COMPARISON_OPERATORS

# Graph's own parameter names, from its list of attribute-mapping functions and Entra's exported Salesforce
# template (SingleAppRoleAssignment's argument is "source", Replace's are source, Find, ... Template).
GRAPH_KEYS: dict[str, tuple[str, ...]] = {
    "Append": ("source", "suffix"),
    "AppRoleAssignmentsComplex": ("source",),
    "AssertiveAppRoleAssignmentsComplex": ("source",),
    "FormatDateTime": ("source", "dateTimeStyles", "inputFormat", "outputFormat"),
    "Mid": ("source", "start", "length"),
    "Not": ("source",),
    "Replace": (
        "source",
        "Find",
        "RegularExpression",
        "RegularExpressionGroupName",
        "Replacement",
        "ReplacementPropertyName",
        "Template",
    ),
    "SingleAppRoleAssignment": ("source",),
    "Split": ("source", "delimiter"),
    "StripSpaces": ("source",),
}
# Functions whose last parameter repeats: Graph gives every occurrence the same name.
REPEATED_KEYS: dict[str, tuple[tuple[str, ...], str]] = {
    "Coalesce": ((), "source"),
    "Join": (("separator",), "source"),
    "SelectUniqueValue": ((), "uniqueValueRule"),
    "Switch": (("source", "defaultValue"), "switchValue"),
}
# Replace's keys in this console's exports before it followed Graph's names: still read on import.
KEY_ALIASES = {
    "RegexPattern": "RegularExpression",
    "RegexGroupName": "RegularExpressionGroupName",
    "ReplacementAttributeName": "ReplacementPropertyName",
}


def parameter_keys(function: str, count: int) -> list[str]:
    """The key of each argument slot: Graph's names where Graph publishes them, the documented names otherwise."""
    if function in REPEATED_KEYS:
        fixed, repeated = REPEATED_KEYS[function]
        return [fixed[i] if i < len(fixed) else repeated for i in range(count)]
    if function == "FormatDateTime" and count == 3:  # the older form without dateTimeStyles
        return ["source", "inputFormat", "outputFormat"]
    if function in GRAPH_KEYS:
        names = list(GRAPH_KEYS[function])
    else:
        spec = FUNCTIONS.get(function)
        inside = spec.signature.partition("(")[2].rstrip(")") if spec else ""
        names = [n.strip().strip("[]").strip() for n in inside.split(",") if n.strip() and n.strip() != "..."]
    return [names[i] if i < len(names) else f"arg{i + 1}" for i in range(count)]


def _leaf(kind: str, name: str, expression: str) -> dict[str, Any]:
    return {"expression": expression, "name": name, "parameters": [], "type": kind}


def node_source(node: Node) -> dict[str, Any]:
    """A parsed expression as Graph's attributeMappingSource tree."""
    if isinstance(node, Attribute):
        return _leaf("Attribute", node.name, f"[{node.name}]")
    if isinstance(node, String):
        return _leaf("Constant", node.value, quote(node.value))
    if isinstance(node, Number):
        text = unparse(node)
        return _leaf("Constant", text, quote(text))
    if isinstance(node, VbConstant):
        return _leaf("Constant", node.name, node.name)
    if isinstance(node, Comparison):
        return {
            "expression": unparse(node),
            "name": node.op,
            "parameters": [
                {"key": "left", "value": node_source(node.left)},
                {"key": "right", "value": node_source(node.right)},
            ],
            "type": "Function",
        }
    if isinstance(node, Call):
        keys = parameter_keys(node.name, len(node.args))
        return {
            "expression": unparse(node),
            "name": node.name,
            "parameters": [
                {"key": key, "value": node_source(arg)}
                for key, arg in zip(keys, node.args, strict=True)
                if not isinstance(arg, Missing)
            ],
            "type": "Function",
        }
    return _leaf("Constant", "", '""')


def source_node(source: dict[str, Any], where: str) -> Node:
    """A Graph source tree back to an expression tree (used only when the source carries no expression text)."""
    kind, name = source.get("type") or "Attribute", source.get("name") or ""
    if kind == "Attribute":
        return Attribute(name)
    if kind == "Constant":
        if name in VB_CONSTANTS and source.get("expression") == name:
            return VbConstant(name)
        return String(name)
    if kind != "Function":
        raise ExpressionError(f"{where}: unknown source type {kind!r} (Attribute, Constant or Function)", 0)
    params = source.get("parameters") or []
    if name in COMPARISON_OPERATORS and [p.get("key") for p in params] == ["left", "right"]:
        left, right = (source_node(p.get("value") or {}, where) for p in params)
        return Comparison(name, left, right)
    spec = FUNCTIONS.get(name)
    keys = parameter_keys(name, len(params) + (spec.max_args or 0 if spec else 0) + 1)
    args: dict[int, Node] = {}
    for pair in params:
        key = KEY_ALIASES.get(pair.get("key"), pair.get("key"))
        free = [i for i, k in enumerate(keys) if k == key and i not in args]
        index = free[0] if free else next(i for i in range(len(keys) + len(params)) if i not in args)
        args[index] = source_node(pair.get("value") or {}, where)
    count = max(args, default=-1) + 1
    if name == "Replace":
        count = max(count, len(GRAPH_KEYS["Replace"]))  # Entra always writes Replace with its seven slots
    return Call(name, tuple(args.get(i, Missing()) for i in range(count)))
