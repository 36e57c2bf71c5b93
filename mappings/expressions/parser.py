"""Tokenizer, recursive-descent parser and printer for Entra's attribute-mapping expressions.

Grammar (Entra's, exactly):
    expression := argument
    argument   := primary [compare_op primary]
    primary    := Name "(" [slot ("," slot)*] ")" | "[" attribute "]" | '"' string '"' | number | vbConstant
    slot       := argument | (nothing: a skipped optional argument)
    number     := ["-"] digits ["." digits] | "&H" hexdigits
    vbConstant := vbBinaryCompare | vbTextCompare (a bare word)
Strings escape `"` and `\\` with a backslash; any other backslash is kept as written (regex patterns).
"""

from __future__ import annotations

from decimal import Decimal

from mappings.expressions.constants import VB_CONSTANTS
from mappings.expressions.errors import ExpressionError
from mappings.expressions.nodes import (
    COMPARISON_OPERATORS,
    Attribute,
    Call,
    Comparison,
    Missing,
    Node,
    Number,
    String,
    VbConstant,
)

MAX_LENGTH = 10_000
MAX_DEPTH = 64

_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_SPACE = frozenset(" \t\r\n")


class _Token:
    __slots__ = ("kind", "value", "position")

    def __init__(self, kind: str, value, position: int) -> None:
        self.kind = kind  # name, attribute, string, number, hex, op, punct, end
        self.value = value
        self.position = position


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _SPACE:
            i += 1
        elif c in "(),":
            tokens.append(_Token("punct", c, i))
            i += 1
        elif c in _NAME_START:
            j = i + 1
            while j < n and text[j] in _NAME_CHARS:
                j += 1
            tokens.append(_Token("name", text[i:j], i))
            i = j
        elif c == "[":
            end = text.find("]", i + 1)
            if end < 0:
                raise ExpressionError("attribute name is missing its closing ']'", i)
            name = text[i + 1 : end]
            bad = next((k for k, ch in enumerate(name) if ch in '["(),' or ch < " "), None)
            if bad is not None:
                raise ExpressionError(f"unexpected {name[bad]!r} in attribute name", i + 1 + bad)
            if not name.strip():
                raise ExpressionError("empty attribute name '[]'", i)
            tokens.append(_Token("attribute", name.strip(), i))
            i = end + 1
        elif c == '"':
            i = _string(text, i, tokens)
        elif c in _DIGITS or (c == "-" and i + 1 < n and text[i + 1] in _DIGITS):
            i = _number(text, i, tokens)
        elif c == "&" and text.startswith(("&H", "&h"), i):
            j = i + 2
            while j < n and text[j] in _HEX:
                j += 1
            if j == i + 2:
                raise ExpressionError("hex number '&H' needs hexadecimal digits", i)
            tokens.append(_Token("hex", int(text[i + 2 : j], 16), i))
            i = j
        elif c in "=<>":
            op = text[i : i + 2] if text[i : i + 2] in ("<>", ">=", "<=") else c
            tokens.append(_Token("op", op, i))
            i += len(op)
        elif c == "&":
            raise ExpressionError("there is no '&' operator: use Append() or Join() to concatenate", i)
        else:
            raise ExpressionError(f"unexpected character {c!r}", i)
        if len(tokens) > MAX_LENGTH:  # pragma: no cover - bounded by MAX_LENGTH characters already
            raise ExpressionError("expression is too long", i)
    tokens.append(_Token("end", None, n))
    return tokens


def _number(text: str, start: int, tokens: list[_Token]) -> int:
    """A whole or decimal number (`42`, `-7`, `42568.75`); Len(42568.75) is 8, so a decimal keeps its digits."""
    n = len(text)
    j = start + 1
    while j < n and text[j] in _DIGITS:
        j += 1
    if j < n and text[j] == ".":
        k = j + 1
        while k < n and text[k] in _DIGITS:
            k += 1
        if k == j + 1:
            raise ExpressionError("a decimal number needs digits after its '.'", j)
        tokens.append(_Token("number", Decimal(text[start:k]), start))
        return k
    tokens.append(_Token("number", int(text[start:j]), start))
    return j


def _string(text: str, start: int, tokens: list[_Token]) -> int:
    out: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in '"\\':
            out.append(text[i + 1])
            i += 2
        elif c == '"':
            tokens.append(_Token("string", "".join(out), start))
            return i + 1
        else:
            out.append(c)
            i += 1
    raise ExpressionError("string is missing its closing '\"'", start)


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, value: str, what: str) -> _Token:
        token = self.token
        if token.kind != "punct" or token.value != value:
            raise ExpressionError(f"expected {what}, found {_describe(token)}", token.position)
        return self.take()

    def argument(self, depth: int) -> Node:
        left = self.primary(depth)
        if self.token.kind == "op":
            op = self.take()
            right = self.primary(depth)
            if self.token.kind == "op":
                raise ExpressionError(
                    "only one comparison is allowed in a condition: nest IIF instead of chaining", self.token.position
                )
            return Comparison(op.value, left, right, op.position)
        return left

    def primary(self, depth: int) -> Node:
        token = self.take()
        if token.kind == "attribute":
            return Attribute(token.value, token.position)
        if token.kind == "string":
            return String(token.value, token.position)
        if token.kind in ("number", "hex"):
            return Number(token.value, token.kind == "hex", token.position)
        if token.kind == "name":
            return self.call(token, depth + 1)
        raise ExpressionError(
            f'expected a function, [attribute], "string" or number, found {_describe(token)}', token.position
        )

    @staticmethod
    def unclosed(name: _Token, token: _Token) -> None:
        if token.kind == "end":
            raise ExpressionError(
                f"{name.value}( opened at column {name.position + 1} is missing its closing ')'", token.position
            )

    def call(self, name: _Token, depth: int) -> Call | VbConstant:
        if depth > MAX_DEPTH:
            raise ExpressionError(f"functions are nested more than {MAX_DEPTH} deep", name.position)
        if self.token.kind != "punct" or self.token.value != "(":
            if name.value in VB_CONSTANTS:
                return VbConstant(name.value, name.position)
            if self.token.kind == "end" or (self.token.kind == "punct" and self.token.value in ",)"):
                known = ", ".join(VB_CONSTANTS)
                raise ExpressionError(
                    f"{name.value!r} is neither a function call (add its parentheses) nor a VB constant ({known})",
                    name.position,
                )
            raise ExpressionError(
                f"expected '(' after function name {name.value!r}, found {_describe(self.token)}", self.token.position
            )
        self.take()
        args: list[Node] = []
        if self.token.kind == "punct" and self.token.value == ")":
            self.take()
            return Call(name.value, (), name.position)
        while True:
            token = self.token
            self.unclosed(name, token)
            if token.kind == "punct" and token.value in ",)":
                args.append(Missing(token.position))
            else:
                args.append(self.argument(depth))
            token = self.token
            self.unclosed(name, token)
            if token.kind == "punct" and token.value == ",":
                self.take()
                continue
            if token.kind == "punct" and token.value == ")":
                self.take()
                return Call(name.value, tuple(args), name.position)
            raise ExpressionError(
                f"expected ',' or ')' in the arguments of {name.value}, found {_describe(token)}", token.position
            )


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the expression"
    if token.kind == "string":
        return "a string"
    if token.kind == "attribute":
        return f"[{token.value}]"
    if token.kind in ("number", "hex"):
        return "a number"
    return repr(token.value)


def parse(text: str) -> Node:
    """The tree of `text`; raises ExpressionError pointing at the first problem."""
    if not isinstance(text, str):
        raise ExpressionError("an expression must be text", 0)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text):,} characters long; the limit is 10,000", MAX_LENGTH)
    tokens = tokenize(text)
    if tokens[0].kind == "end":
        raise ExpressionError("the expression is empty", 0)
    parser = _Parser(tokens)
    node = parser.argument(0)
    if parser.token.kind != "end":
        raise ExpressionError(
            f"unexpected {_describe(parser.token)} after the end of the expression", parser.token.position
        )
    return node


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unparse(node: Node) -> str:
    """Canonical text of a tree: `Name(a, b)`, one space after commas, skipped arguments left empty."""
    if isinstance(node, Call):
        return f"{node.name}({', '.join(unparse(arg) for arg in node.args)})"
    if isinstance(node, Attribute):
        return f"[{node.name}]"
    if isinstance(node, String):
        return quote(node.value)
    if isinstance(node, Number):
        if node.hex:
            return f"&H{node.value:X}"
        return format(node.value, "f") if isinstance(node.value, Decimal) else str(node.value)
    if isinstance(node, VbConstant):
        return node.name
    if isinstance(node, Missing):
        return ""
    if isinstance(node, Comparison):
        return f"{unparse(node.left)} {node.op} {unparse(node.right)}"
    raise TypeError(f"not an expression node: {node!r}")


__all__ = ["COMPARISON_OPERATORS", "MAX_LENGTH", "parse", "unparse", "quote", "tokenize"]
