"""$filter of the provisioning log: the OData clauses Graph's auditLogs/provisioning takes, for the fields the
Provisioning logs page filters on, turned into that page's own filter parameters (provisioning.logquery.LogFilters)
so that the API and the page select the same rows through the same indexes. Anything else is refused, naming what
is supported, never ignored."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from provisioning.models import LogAction, LogStatus

SUPPORTED = (
    "activityDateTime ge|gt|le|lt YYYY-MM-DD (whole days, UTC, as the page's custom range); "
    "provisioningStatusInfo/status eq '<" + "|".join(LogStatus.values) + ">'; "
    "provisioningAction eq '<" + "|".join(LogAction.values) + ">'; "
    "cycleId eq '<id>'; changeId eq '<id>'; "
    "sourceIdentity/id eq '<Entra object id>'; targetIdentity/id eq '<Salesforce user id>'; "
    "startswith(sourceIdentity/displayName,'<start of the display name or UPN>'); "
    "clauses joined with 'and' (no 'or', 'not' or parentheses)"
)
MAX_FILTER = 1000

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<open>\()|(?P<close>\))|(?P<comma>,)|(?P<word>[A-Za-z0-9_/.:+-]+))"
)
COMPARISONS = {"eq", "ge", "gt", "le", "lt", "ne"}
EQUALITY_FIELDS = {
    "provisioningStatusInfo/status": "status",
    "provisioningAction": "action",
    "cycleId": "cycle",
    "changeId": "change",
    "sourceIdentity/id": "identity",
    "targetIdentity/id": "identity",
}
CHOICES = {"status": LogStatus.values, "action": LogAction.values}


class UnsupportedFilter(ValueError):
    """A $filter this API cannot apply; the message says which part and what is supported."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{problem} Supported: {SUPPORTED}.")


@dataclass
class Token:
    kind: str
    text: str


def _tokens(text: str) -> list[Token]:
    found: list[Token] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise UnsupportedFilter(f"$filter cannot be read at {text[position : position + 20]!r}.")
        kind = match.lastgroup or ""
        found.append(Token(kind, match.group(kind)))
        position = match.end()
    return found


def _string(token: Token, field: str) -> str:
    if token.kind != "string":
        raise UnsupportedFilter(f"{field} takes a quoted value ('...'), not {token.text!r}.")
    return token.text[1:-1].replace("''", "'")


def _day(token: Token) -> date:
    text = token.text.strip("'")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UnsupportedFilter(
            f"activityDateTime compares with a day such as 2026-11-27, not {token.text!r} (the log's date filter "
            "works in whole days, as on the page)."
        ) from None


def _clauses(tokens: list[Token]) -> list[list[Token]]:
    clauses: list[list[Token]] = [[]]
    for token in tokens:
        if token.kind == "word" and token.text.lower() == "and":
            clauses.append([])
        elif token.kind == "word" and token.text.lower() in ("or", "not"):
            raise UnsupportedFilter(f"'{token.text}' is not supported.")
        else:
            clauses[-1].append(token)
    if any(not clause for clause in clauses):
        raise UnsupportedFilter("'and' must join two clauses.")
    return clauses


def filter_params(text: str) -> dict[str, str]:
    """The page's filter parameters (LogFilters) of an OData $filter; UnsupportedFilter for anything else."""
    text = text.strip()
    if not text:
        return {}
    if len(text) > MAX_FILTER:
        raise UnsupportedFilter(f"$filter is {len(text)} characters long; at most {MAX_FILTER} are read.")
    params: dict[str, str] = {}
    start: date | None = None
    end: date | None = None
    for clause in _clauses(_tokens(text)):
        kinds = [token.kind for token in clause]
        if kinds == ["word", "open", "word", "comma", "string", "close"] and clause[0].text == "startswith":
            if clause[2].text != "sourceIdentity/displayName":
                raise UnsupportedFilter(
                    f"startswith() is supported on sourceIdentity/displayName, not {clause[2].text}."
                )
            name, value = "identity", _string(clause[4], "startswith")
        elif kinds[:2] == ["word", "word"] and len(clause) == 3 and clause[1].text in COMPARISONS:
            field, operator, operand = clause[0].text, clause[1].text, clause[2]
            if field == "activityDateTime":
                day = _day(operand)
                if operator in ("ge", "gt"):
                    start = day + timedelta(days=1) if operator == "gt" else day
                elif operator in ("le", "lt"):
                    end = day - timedelta(days=1) if operator == "lt" else day
                else:
                    raise UnsupportedFilter(f"activityDateTime takes ge, gt, le or lt, not {operator}.")
                continue
            name = EQUALITY_FIELDS.get(field)
            if name is None:
                raise UnsupportedFilter(f"Filtering on {field!r} is not supported.")
            if operator != "eq":
                raise UnsupportedFilter(f"{field} takes eq, not {operator}.")
            value = _string(operand, field)
            if name in CHOICES and value not in CHOICES[name]:
                raise UnsupportedFilter(f"{field} {value!r} is not one of {', '.join(CHOICES[name])}.")
        else:
            shown = " ".join(token.text for token in clause)
            raise UnsupportedFilter(f"The clause {shown!r} is not supported.")
        if name in params and params[name] != value:
            raise UnsupportedFilter(f"Two clauses filter on the same field ({name}) with different values.")
        params[name] = value
    if start or end:
        if start and end and end < start:
            raise UnsupportedFilter("The activityDateTime range ends before it starts.")
        params["date"] = "custom"
        if start:
            params["start"] = start.isoformat()
        if end:
            params["end"] = end.isoformat()
    return params
