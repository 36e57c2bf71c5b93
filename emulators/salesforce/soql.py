"""A small SOQL parser and evaluator: what a provisioning engine sends, with Salesforce's errors.

SELECT f, Rel.f | COUNT() FROM Object [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]
cond: comparisons (= != <> < > <= >=), [NOT] IN (...), LIKE, AND / OR / NOT, parentheses. Text comparisons are
case-insensitive, as in Salesforce. Id and Username equality / IN use the state's indexes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulators.salesforce.schema import FIELD_INDEX, OBJECT_NAMES, RELATIONSHIPS

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')"
    r"|(?P<dt>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))"
    r"|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|(?P<op>!=|<>|<=|>=|=|<|>)|(?P<punct>[(),])"
    r"|(?P<word>[A-Za-z_][\w.]*))",
    re.S,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\"}
_KEYWORDS = {
    "select",
    "from",
    "where",
    "and",
    "or",
    "not",
    "in",
    "like",
    "order",
    "by",
    "asc",
    "desc",
    "nulls",
    "first",
    "last",
    "limit",
    "offset",
    "null",
    "true",
    "false",
    "includes",
    "excludes",
    "group",
}
AGGREGATES = ("count", "max", "min", "count_distinct")


class SOQLError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Query:
    obj: str
    fields: list[tuple[str, ...]]  # ("Name",) or ("Profile", "Name") in canonical case
    count_only: bool = False
    where: Any = None
    order: list[tuple[tuple[str, ...], bool, bool]] = field(default_factory=list)  # path, descending, nulls_last
    limit: int | None = None
    offset: int = 0
    aggregates: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)  # (function, path, alias)
    group_by: list[tuple[str, ...]] = field(default_factory=list)


def _unescape(literal: str) -> str:
    body = literal[1:-1]
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            nxt = body[i + 1 : i + 2]
            if nxt not in _ESCAPES and nxt not in ("_", "%"):
                raise SOQLError(
                    "MALFORMED_QUERY",
                    f"Invalid string literal '{literal}'. Illegal character sequence '\\{nxt}' in string literal.",
                )  # noqa: E501
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokenize(text: str) -> list[tuple[str, Any]]:
    tokens, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SOQLError("MALFORMED_QUERY", f"unexpected token: '{text[pos : pos + 20].strip()}'")
        pos = m.end()
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "str":
            tokens.append(("str", _unescape(value)))
        elif kind == "dt":  # compared as text in the stored form: 2024-01-31T08:00:00.000+0000 (UTC)
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
            tokens.append(("str", stamp.strftime("%Y-%m-%dT%H:%M:%S.000+0000")))
        elif kind == "num":
            tokens.append(("num", float(value) if "." in value else int(value)))
        elif kind == "word" and value.lower() in _KEYWORDS:
            tokens.append(("kw", value.lower()))
        else:
            tokens.append((kind, value))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, Any]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else ("end", None)

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, kind: str, value: Any = None) -> Any:
        tok = self.take()
        if tok[0] != kind or (value is not None and tok[1] != value):
            shown = tok[1] if tok[0] != "end" else "end of query"
            raise SOQLError("MALFORMED_QUERY", f"unexpected token: '{shown}'")
        return tok[1]

    def accept(self, kind: str, value: Any = None) -> bool:
        tok = self.peek()
        if tok[0] == kind and (value is None or tok[1] == value):
            self.i += 1
            return True
        return False

    def parse(self) -> tuple[list[str], bool, str, Any, list, int | None, int]:
        self.expect("kw", "select")
        raw_fields, count_only = [], False
        if self.peek()[0] == "word" and self.peek()[1].lower() == "count" and self.peek(1) == ("punct", "("):
            self.i += 1
            self.expect("punct", "(")
            self.expect("punct", ")")
            count_only = True
        else:
            raw_fields.append(self.select_item())
            while self.accept("punct", ","):
                raw_fields.append(self.select_item())
        self.expect("kw", "from")
        obj = "Group" if self.accept("kw", "group") else self.expect("word")  # Group is an object and a keyword
        where = None
        if self.accept("kw", "where"):
            where = self.condition()
        self.group_by: list[str] = []
        if self.accept("kw", "group"):
            self.expect("kw", "by")
            self.group_by.append(self.expect("word"))
            while self.accept("punct", ","):
                self.group_by.append(self.expect("word"))
        order = []
        if self.accept("kw", "order"):
            self.expect("kw", "by")
            while True:
                name = self.expect("word")
                desc = self.accept("kw", "desc")
                if not desc:
                    self.accept("kw", "asc")
                nulls_last = desc
                if self.accept("kw", "nulls"):
                    nulls_last = self.accept("kw", "last") or not self.expect("kw", "first")
                order.append((name, desc, nulls_last))
                if not self.accept("punct", ","):
                    break
        limit, offset = None, 0
        if self.accept("kw", "limit"):
            limit = self.expect("num")
        if self.accept("kw", "offset"):
            offset = self.expect("num")
        if self.peek()[0] != "end":
            raise SOQLError("MALFORMED_QUERY", f"unexpected token: '{self.peek()[1]}'")
        return raw_fields, count_only, obj, where, order, limit, offset

    def select_item(self) -> Any:
        """A field path, or an aggregate such as COUNT(Id) or MAX(SystemModstamp) with an optional alias."""
        name = self.expect("word")
        if name.lower() in AGGREGATES and self.accept("punct", "("):
            argument = self.expect("word")
            self.expect("punct", ")")
            alias = ""
            if self.peek()[0] == "word" and self.peek(1) in (("punct", ","), ("kw", "from")):
                alias = self.take()[1]
            return (name.lower(), argument, alias)
        return name

    def condition(self) -> Any:
        parts = [self.conjunction()]
        while self.accept("kw", "or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else ("or", parts)

    def conjunction(self) -> Any:
        parts = [self.unary()]
        while self.accept("kw", "and"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else ("and", parts)

    def unary(self) -> Any:
        if self.accept("kw", "not"):
            return ("not", self.unary())
        if self.accept("punct", "("):
            inner = self.condition()
            self.expect("punct", ")")
            return inner
        name = self.expect("word")
        if self.accept("kw", "not"):
            self.expect("kw", "in")
            return ("in", name, self.value_list(), True)
        if self.accept("kw", "in"):
            return ("in", name, self.value_list(), False)
        if self.accept("kw", "like"):
            return ("like", name, self.literal())
        op = self.expect("op")
        return ("cmp", name, "!=" if op == "<>" else op, self.literal())

    def value_list(self) -> list[Any]:
        self.expect("punct", "(")
        values = [self.literal()]
        while self.accept("punct", ","):
            values.append(self.literal())
        self.expect("punct", ")")
        return values

    def literal(self) -> Any:
        kind, value = self.take()
        if kind in ("str", "num"):
            return value
        if kind == "kw" and value in ("null", "true", "false"):
            return {"null": None, "true": True, "false": False}[value]
        raise SOQLError("MALFORMED_QUERY", f"unexpected token: '{value}'")


def _resolve_path(obj: str, name: str) -> tuple[str, ...]:
    parts = name.split(".")
    current = obj
    path: list[str] = []
    for rel in parts[:-1]:
        target = RELATIONSHIPS[current].get(rel.lower())
        if target is None:
            raise SOQLError(
                "INVALID_FIELD",
                f"Didn't understand relationship '{rel}' in field path. If you are "
                f"attempting to use a custom relationship, be sure to append the '__r' after the custom "
                f"relationship name.",
            )
        path.append(target[0][:-2])  # the relationship is named after its lookup field: ProfileId -> Profile
        current = target[1]
    field = FIELD_INDEX[current].get(parts[-1].lower())
    if field is None:
        raise SOQLError(
            "INVALID_FIELD",
            f"No such column '{parts[-1]}' on entity '{current}'. If you are attempting "
            f"to use a custom field, be sure to append the '__c' after the custom field name.",
        )
    return (*path, field.name)


def _resolve_where(obj: str, node: Any) -> Any:
    if node is None:
        return None
    kind = node[0]
    if kind in ("and", "or"):
        return (kind, [_resolve_where(obj, n) for n in node[1]])
    if kind == "not":
        return ("not", _resolve_where(obj, node[1]))
    if kind == "in":
        # ("in", path, values, negated, the values as compared: lower-cased text), the set made once per query
        # rather than once per record tested.
        values = node[2]
        return (
            kind,
            _resolve_path(obj, node[1]),
            values,
            node[3],
            {v.lower() if isinstance(v, str) else v for v in values},
        )
    return (kind, _resolve_path(obj, node[1]), *node[2:])


def parse(text: str) -> Query:
    parser = _Parser(text)
    raw_fields, count_only, obj_name, where, order, limit, offset = parser.parse()
    obj = OBJECT_NAMES.get(obj_name.lower())
    if obj is None:
        raise SOQLError(
            "INVALID_TYPE",
            f"sObject type '{obj_name}' is not supported. If you are attempting to use a "
            f"custom object, be sure to append the '__c' after the entity name.",
        )
    fields, seen = [], set()
    aggregates = []
    unnamed = 0  # aggregates without an alias are named expr0, expr1, ... in their order
    for raw in raw_fields:
        if isinstance(raw, tuple):
            alias = raw[2] or f"expr{unnamed}"
            unnamed += 0 if raw[2] else 1
            aggregates.append((raw[0], _resolve_path(obj, raw[1]), alias))
            continue
        path = _resolve_path(obj, raw)
        if path not in seen:
            seen.add(path)
            fields.append(path)
    order_paths = [(_resolve_path(obj, name), desc, nulls_last) for name, desc, nulls_last in order]
    group_by = [_resolve_path(obj, name) for name in parser.group_by]
    if aggregates or group_by:
        stray = [".".join(path) for path in fields if path not in group_by]
        if stray:
            raise SOQLError(
                "MALFORMED_QUERY",
                f"Field must be grouped or aggregated: {stray[0]}",
            )
    query = Query(obj, fields, count_only, _resolve_where(obj, where), order_paths, limit, offset)
    query.aggregates, query.group_by = aggregates, group_by
    return query
