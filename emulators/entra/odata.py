"""The subset of OData $filter that Graph accepts on users and groups: eq, ne, gt/ge/lt/le, in, startswith,
and/or/not, parentheses. Anything else is Graph's Request_UnsupportedQuery."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)\b|(?P<punct>[(),])|(?P<word>[A-Za-z_$][\w/.]*))"
)
_OPS = {"eq", "ne", "gt", "ge", "lt", "le"}


class FilterError(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, Any]]:
    out, pos, text = [], 0, text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError(f"Invalid filter clause: syntax error at position {pos} in '{text}'.")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            out.append(("str", value[1:-1].replace("''", "'")))
        elif kind == "num":
            out.append(("num", float(value) if "." in value else int(value)))
        else:
            out.append((kind, value))
    return out


Predicate = Callable[[dict[str, Any]], bool]


def _norm(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


def _get(record: dict[str, Any], name: str) -> Any:
    for key, value in record.items():
        if key.lower() == name.lower():
            return value
    return None


class _Parser:
    def __init__(self, text: str, allowed: set[str] | None) -> None:
        self.t = _tokens(text)
        self.i = 0
        self.allowed = {a.lower() for a in allowed} if allowed else None

    def peek(self) -> tuple[str, Any]:
        return self.t[self.i] if self.i < len(self.t) else ("end", None)

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        self.i += 1
        return tok

    def word(self, value: str) -> bool:
        tok = self.peek()
        if tok[0] == "word" and tok[1].lower() == value:
            self.i += 1
            return True
        return False

    def expect(self, kind: str, value: str | None = None) -> Any:
        tok = self.take()
        if tok[0] != kind or (value is not None and tok[1] != value):
            raise FilterError(f"Invalid filter clause: unexpected '{tok[1]}'.")
        return tok[1]

    def prop(self) -> str:
        name = self.expect("word")
        if self.allowed is not None and name.lower() not in self.allowed:
            raise FilterError(f"Unsupported or invalid query filter clause specified for property '{name}'.")
        return name

    def parse(self) -> Predicate:
        pred = self.disjunction()
        if self.peek()[0] != "end":
            raise FilterError(f"Invalid filter clause: unexpected '{self.peek()[1]}'.")
        return pred

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.word("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda r, ps=parts: any(p(r) for p in ps))

    def conjunction(self) -> Predicate:
        parts = [self.unary()]
        while self.word("and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda r, ps=parts: all(p(r) for p in ps))

    def literal(self) -> Any:
        kind, value = self.take()
        if kind in ("str", "num"):
            return value
        if kind == "word" and value in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value]
        raise FilterError(f"Invalid filter clause: expected a literal, got '{value}'.")

    def unary(self) -> Predicate:
        if self.word("not"):
            inner = self.unary()
            return lambda r: not inner(r)
        if self.peek() == ("punct", "("):
            self.take()
            inner = self.disjunction()
            self.expect("punct", ")")
            return inner
        tok = self.peek()
        if tok[0] == "word" and tok[1].lower() in ("startswith", "endswith"):
            func = self.take()[1].lower()
            self.expect("punct", "(")
            name = self.prop()
            self.expect("punct", ",")
            value = _norm(self.literal())
            self.expect("punct", ")")
            if func == "startswith":
                return lambda r: isinstance(_get(r, name), str) and _get(r, name).lower().startswith(value)
            return lambda r: isinstance(_get(r, name), str) and _get(r, name).lower().endswith(value)
        name = self.prop()
        if self.word("in"):
            self.expect("punct", "(")
            values = {_norm(self.literal())}
            while self.peek() == ("punct", ","):
                self.take()
                values.add(_norm(self.literal()))
            self.expect("punct", ")")
            return lambda r: _norm(_get(r, name)) in values
        op = self.expect("word").lower()
        if op not in _OPS:
            raise FilterError(f"Invalid filter clause: unsupported operator '{op}'.")
        value = _norm(self.literal())

        def compare(r: dict[str, Any]) -> bool:
            left = _norm(_get(r, name))
            if op == "eq":
                return left == value
            if op == "ne":
                return left != value
            if left is None or value is None:
                return False
            try:
                return {"gt": left > value, "ge": left >= value, "lt": left < value, "le": left <= value}[op]
            except TypeError:
                return False

        return compare


def compile_filter(text: str, allowed: set[str] | None = None) -> Predicate:
    """A predicate over a Graph object dict; raises FilterError (-> 400 Request_UnsupportedQuery)."""
    return _Parser(text, allowed).parse()


_RESOURCE_FILTER = re.compile(
    r"^\s*resourceId\s+eq\s+'?(?P<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})'?\s*$"
)


def resource_id_filter(text: str) -> str | None:
    """The service principal id of `$filter=resourceId eq {guid}` on an appRoleAssignments list (None without a
    filter); any other filter there is Graph's Request_UnsupportedQuery (FilterError)."""
    if not text:
        return None
    match = _RESOURCE_FILTER.match(text)
    if match is None:
        raise FilterError(f"Invalid filter clause: only resourceId eq {{id}} is supported here, not '{text}'.")
    return match["id"].lower()
