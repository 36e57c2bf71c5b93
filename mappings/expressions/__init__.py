"""Entra's attribute-mapping expression language: parse, check, print and evaluate.

    tree = parse('Append([userPrincipalName], ".uat")')
    evaluate(tree, {"userPrincipalName": "john@contoso.com"})  # "john@contoso.com.uat"

Never eval/exec: the tree is run through a whitelisted function table (mappings.expressions.functions).
"""

from mappings.expressions.attributes import ENTRA_USER_ATTRIBUTES, is_known_attribute
from mappings.expressions.checker import check, validate
from mappings.expressions.errors import EvaluationError, ExpressionError
from mappings.expressions.evaluator import compile_expression, compile_node, evaluate
from mappings.expressions.functions import FUNCTIONS, FunctionSpec
from mappings.expressions.nodes import Attribute, Call, Comparison, Missing, Node, Number, String, VbConstant, walk
from mappings.expressions.parser import MAX_LENGTH, parse, quote, unparse
from mappings.expressions.values import IGNORE_FLOW, MISSING, ComplexValue, Context, Redacted

__all__ = [
    "ENTRA_USER_ATTRIBUTES",
    "FUNCTIONS",
    "IGNORE_FLOW",
    "MAX_LENGTH",
    "MISSING",
    "Attribute",
    "Call",
    "Comparison",
    "ComplexValue",
    "Context",
    "EvaluationError",
    "ExpressionError",
    "FunctionSpec",
    "Missing",
    "Node",
    "Number",
    "Redacted",
    "String",
    "VbConstant",
    "check",
    "compile_expression",
    "compile_node",
    "evaluate",
    "is_known_attribute",
    "parse",
    "quote",
    "unparse",
    "validate",
    "walk",
]
