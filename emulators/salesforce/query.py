"""Running parsed SOQL against the org state, and the query locators that page results."""

from __future__ import annotations

import functools
import itertools
import re
from collections import OrderedDict
from typing import Any

from emulators.salesforce.schema import RELATIONSHIPS
from emulators.salesforce.soql import Query, SOQLError, parse
from emulators.salesforce.state import SalesforceState

_INDEXED = {("Id",): "id", ("Username",): "username"}
OWNER_FIELDS = {  # the user lookup of each access object, indexed by AccessTables.by_owner
    "PermissionSetAssignment": "AssigneeId",
    "PermissionSetLicenseAssign": "AssigneeId",
    "GroupMember": "UserOrGroupId",
    "UserLogin": "UserId",
}


def _table(state: SalesforceState, obj: str) -> dict[str, dict[str, Any]]:
    if obj == "User":
        return state.users
    if obj == "Profile":
        return state.profiles
    if obj == "UserRole":
        return state.roles
    if obj == "UserLicense":
        return {k: {**v, "UsedLicenses": state.used_licences(k)} for k, v in state.licences.items()}
    if obj == "Organization":
        return {state.organization["Id"]: state.organization}
    return state.access.tables()[obj]


def _value(state: SalesforceState, obj: str, record: dict[str, Any] | None, path: tuple[str, ...]) -> Any:
    for rel in path[:-1]:
        if record is None:
            return None
        lookup, target = RELATIONSHIPS[obj][rel.lower()]
        record = _table(state, target).get(record.get(lookup) or "")
        obj = target
    return None if record is None else record.get(path[-1])


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


@functools.lru_cache(maxsize=256)
def _like_pattern(pattern: str) -> re.Pattern:
    return re.compile("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern.lower()), re.S)


def _like(value: Any, pattern: str) -> bool:
    return value is not None and _like_pattern(pattern).fullmatch(str(value).lower()) is not None


def _compare(left: Any, op: str, right: Any) -> bool:
    if op == "=":
        return _norm(left) == _norm(right)
    if op == "!=":
        return _norm(left) != _norm(right)
    if left is None or right is None:
        return False
    left, right = _norm(left), _norm(right)
    try:
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
    except TypeError:
        raise SOQLError("INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on field: {op}")


def matches(state: SalesforceState, obj: str, record: dict[str, Any], node: Any) -> bool:
    if node is None:
        return True
    kind = node[0]
    if kind == "and":
        return all(matches(state, obj, record, n) for n in node[1])
    if kind == "or":
        return any(matches(state, obj, record, n) for n in node[1])
    if kind == "not":
        return not matches(state, obj, record, node[1])
    value = _value(state, obj, record, node[1])
    if kind == "cmp":
        return _compare(value, node[2], node[3])
    if kind == "in":
        found = _norm(value) in node[4]
        return found != node[3]
    return _like(value, node[2])


def _candidates(state: SalesforceState, query: Query) -> list[dict[str, Any]]:
    """Use the Id / Username indexes when the filter pins those fields, so IN-queries cost O(k)."""
    table = _table(state, query.obj)
    conjuncts = query.where[1] if query.where and query.where[0] == "and" else [query.where]
    if query.obj == "User":
        for node in conjuncts:
            if (
                node
                and node[0] in ("cmp", "in")
                and tuple(node[1]) in _INDEXED
                and (node[0] == "in" and not node[3] or node[0] == "cmp" and node[2] == "=")
            ):
                values = node[2] if node[0] == "in" else [node[3]]
                ids = []
                for v in values:
                    if not isinstance(v, str):
                        continue
                    if _INDEXED[tuple(node[1])] == "username":
                        uid = state.by_username.get(v.lower())
                    else:
                        record = state.user_by_any_id(v)
                        uid = record["Id"] if record else None
                    if uid and uid not in ids:
                        ids.append(uid)
                return [table[i] for i in sorted(ids)]
    owner_field = OWNER_FIELDS.get(query.obj)
    for node in conjuncts if owner_field else ():
        # Salesforce indexes lookup fields: an assignee's rows are found without reading the whole table.
        if node and node[0] == "in" and not node[3] and tuple(node[1]) == (owner_field,):
            owned = state.access.by_owner[query.obj]
            found = {rid for v in node[2] if isinstance(v, str) for rid in owned.get(_user_id(state, v), ())}
            return [table[i] for i in sorted(found) if i in table]
    return list(table.values())


def _user_id(state: SalesforceState, value: str) -> str:
    record = state.user_by_any_id(value) if value.startswith("005") else None
    return record["Id"] if record else value


def _shape(state: SalesforceState, query: Query, record: dict[str, Any], version: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "attributes": {"type": query.obj, "url": f"/services/data/{version}/sobjects/{query.obj}/{record['Id']}"}
    }  # noqa: E501
    for path in query.fields:
        if len(path) == 1:
            out[path[0]] = record.get(path[0])
            continue
        target_obj, parent, holder = query.obj, record, out
        for rel in path[:-1]:
            lookup, target_obj_next = RELATIONSHIPS[target_obj][rel.lower()]
            parent = _table(state, target_obj_next).get((parent or {}).get(lookup) or "") if parent else None
            target_obj = target_obj_next
            if parent is None:
                holder[rel] = None
                break
            if not isinstance(holder.get(rel), dict):
                url = f"/services/data/{version}/sobjects/{target_obj}/{parent['Id']}"
                holder[rel] = {"attributes": {"type": target_obj, "url": url}}
            holder = holder[rel]
        else:
            holder[path[-1]] = parent.get(path[-1])
    return out


def execute(state: SalesforceState, soql: str, version: str) -> tuple[int, list[dict[str, Any]]]:
    """Return (totalSize, shaped records) for a SOQL text."""
    query = parse(soql)
    rows = [r for r in _candidates(state, query) if matches(state, query.obj, r, query.where)]
    for path, desc, nulls_last in reversed(query.order):
        present = [r for r in rows if _value(state, query.obj, r, path) is not None]
        absent = [r for r in rows if _value(state, query.obj, r, path) is None]
        present.sort(key=lambda r, p=path: _norm(_value(state, query.obj, r, p)), reverse=desc)
        rows = present + absent if nulls_last else absent + present
    if query.aggregates or query.group_by:
        grouped = _aggregate(state, query, rows)
        return len(grouped), grouped
    rows = rows[query.offset :]
    if query.limit is not None:
        rows = rows[: query.limit]
    if query.count_only:
        return len(rows), []
    return len(rows), [_shape(state, query, r, version) for r in rows]


def _aggregate(state: SalesforceState, query: Query, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GROUP BY rows as AggregateResult records: the grouped fields, then each aggregate under its alias (exprN)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        key = tuple(_value(state, query.obj, row, path) for path in query.group_by)
        groups.setdefault(key, []).append(row)
    if not query.group_by and not groups:
        groups[()] = []
    out = []
    for key, members in groups.items():
        record: dict[str, Any] = {"attributes": {"type": "AggregateResult"}}
        for path, value in zip(query.group_by, key, strict=True):
            record[path[-1]] = value
        for function, path, alias in query.aggregates:
            values = [v for v in (_value(state, query.obj, m, path) for m in members) if v is not None]
            if function == "count":
                record[alias] = len(values)
            elif function == "count_distinct":
                record[alias] = len(set(values))
            else:
                record[alias] = (max if function == "max" else min)(values) if values else None
        out.append(record)
    return out


class Cursors:
    """Open query locators: `<locator>-<offset>` as in Salesforce; the oldest are dropped beyond a bound."""

    def __init__(self, state: SalesforceState, limit: int = 200) -> None:
        self.state = state
        self.open: OrderedDict[str, tuple[int, list[dict[str, Any]]]] = OrderedDict()
        self.counter = itertools.count(1)
        self.limit = limit

    def store(self, total: int, records: list[dict[str, Any]]) -> str:
        locator = self.state.ids.next("01g")
        self.open[locator] = (total, records)
        while len(self.open) > self.limit:
            self.open.popitem(last=False)
        return locator

    def get(self, locator: str) -> tuple[int, list[dict[str, Any]]] | None:
        return self.open.get(locator)
