"""Entra writes .NET regular expressions; this turns the syntax that differs into Python's.

Covered: named groups `(?<name>...)` / `(?'name'...)`, back-references `\\k<name>`, and in replacements
`$1`, `${name}`, `$&`, `$$`. The rest of the common syntax is the same in both engines.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

import regex

_GROUP_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def translate_pattern(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and pattern.startswith("\\k<", i):
            end = pattern.find(">", i)
            if end > 0:
                out.append(f"(?P={pattern[i + 3 : end]})")
                i = end + 1
                continue
        if c == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if pattern.startswith("(?<", i) and i + 3 < n and pattern[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        if pattern.startswith("(?'", i):
            end = pattern.find("'", i + 3)
            if end > 0:
                out.append(f"(?P<{pattern[i + 3 : end]}>")
                i = end + 1
                continue
        out.append(c)
        i += 1
    return "".join(out)


# An administrator's pattern such as (a+)+$ can backtrack for minutes on one value; like .NET's match timeout,
# a search or replacement that takes longer fails for that value only, with a message, instead of hanging a cycle.
MATCH_TIMEOUT_SECONDS = 0.25


class TimedPattern:
    """A compiled pattern whose search and sub give up after MATCH_TIMEOUT_SECONDS (raising ValueError)."""

    __slots__ = ("source", "_compiled")

    def __init__(self, source: str, compiled) -> None:
        self.source = source
        self._compiled = compiled

    def _timed(self, method: str, *args):
        try:
            return getattr(self._compiled, method)(*args, timeout=MATCH_TIMEOUT_SECONDS)
        except TimeoutError:
            raise ValueError(
                f"the regular expression {self.source!r} took longer than {MATCH_TIMEOUT_SECONDS * 1000:.0f} ms on "
                "this value (catastrophic backtracking): simplify it, e.g. avoid nested quantifiers like (a+)+"
            ) from None

    def has_group(self, name: str) -> bool:
        """Whether `name` (a group name, or a group number written as digits) exists in the pattern."""
        if name.isdigit():
            return int(name) <= self._compiled.groups
        return name in self._compiled.groupindex

    def search(self, text: str):
        return self._timed("search", text)

    def fullmatch(self, text: str):
        return self._timed("fullmatch", text)

    def sub(self, repl, text: str) -> str:
        return self._timed("sub", repl, text)


@lru_cache(maxsize=512)
def compile_regex(pattern: str) -> TimedPattern:
    """The compiled pattern for a .NET `pattern`; raises ValueError with the reason when invalid."""
    try:
        return TimedPattern(pattern, regex.compile(translate_pattern(pattern), flags=regex.VERSION0))
    except (regex.error, re.error, OverflowError, RecursionError) as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None


@lru_cache(maxsize=512)
def replacement(template: str) -> Callable[[re.Match], str]:
    """A function giving the .NET replacement text for one match."""
    pieces: list[str | tuple[str | int]] = []  # str: literal text; (number or name,): a group
    literal: list[str] = []
    i, n = 0, len(template)
    while i < n:
        c = template[i]
        if c == "$" and i + 1 < n:
            nxt = template[i + 1]
            group: str | int | None = None
            width = 0
            if nxt == "$":
                literal.append("$")
                i += 2
                continue
            if nxt == "&":
                group, width = 0, 2
            elif nxt.isdigit():
                j = i + 1
                while j < n and template[j].isdigit():
                    j += 1
                group, width = int(template[i + 1 : j]), j - i
            elif nxt == "{":
                end = template.find("}", i)
                name = template[i + 2 : end] if end > 0 else ""
                if name.isdigit():
                    group, width = int(name), end - i + 1
                elif _GROUP_NAME.fullmatch(name):
                    group, width = name, end - i + 1
            if group is not None:
                if literal:
                    pieces.append("".join(literal))
                    literal = []
                pieces.append((group,))
                i += width
                continue
        literal.append(c)
        i += 1
    if literal:
        pieces.append("".join(literal))

    def expand(match: re.Match) -> str:
        out = []
        for piece in pieces:
            if isinstance(piece, str):
                out.append(piece)
            else:
                try:
                    out.append(match.group(piece[0]) or "")
                except IndexError:
                    # .NET leaves an unknown group reference as written
                    ref = piece[0]
                    out.append(f"${{{ref}}}" if isinstance(ref, str) else f"${ref}")
        return "".join(out)

    return expand
