"""Runtime values of the expression language and the conversions every function shares.

Values are str, int, bool, list or None while evaluating; the public result is normalised to
str | list[str] | None (booleans as "True"/"False", as Entra writes them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

from mappings.expressions.errors import EvaluationError


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        return False


MISSING = _Sentinel("MISSING")  # a skipped optional argument
IGNORE_FLOW = _Sentinel("IGNORE_FLOW")  # IgnoreFlowIfNullOrEmpty: drop the target attribute from this flow


class Redacted(str):
    """A value that passed through Redact(): it flows normally but the log shows "[Redact]"."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Redacted('[Redact]')"


class ComplexValue(dict):
    """A complex attribute value, an object such as one app role from AppRoleAssignmentsComplex. It flows as the
    object; where text is needed (str(), string functions, a text field) it is `text`, the JSON Entra writes for
    it."""

    __slots__ = ("text",)

    def __init__(self, fields: dict, text: str | None = None) -> None:
        super().__init__(fields)
        self.text = text if text is not None else json.dumps(fields, separators=(",", ":"), ensure_ascii=False)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"ComplexValue({dict(self)!r})"


TRUE = "True"
FALSE = "False"


def boolean(flag: bool) -> str:
    return TRUE if flag else FALSE


def is_null(value: Any) -> bool:
    return value is None or value is MISSING


def is_empty(value: Any) -> bool:
    """Null, "" or an empty multi-valued attribute."""
    return value is None or value is MISSING or value == "" or (isinstance(value, list) and not value)


def to_str(value: Any) -> str | None:
    """A single value as Entra prints it; null stays None; a multi-valued one gives its first value."""
    if value is None or value is MISSING:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return boolean(value)
    if isinstance(value, list | tuple):
        return to_str(value[0]) if value else None
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def to_int(value: Any, what: str) -> int:
    """A whole number from a number literal or its text; anything else fails for this user."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = to_str(value)
    try:
        return int(text.strip())  # type: ignore[union-attr]
    except (AttributeError, ValueError):
        raise EvaluationError(f"{what} must be a whole number, got {value!r}") from None


def is_true(value: Any) -> bool:
    """Entra's truth: the boolean True, the string "True" (any case), or a non-zero number."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    text = to_str(value)
    if text is None:
        return False
    text = text.strip()
    if text.lower() == "true":
        return True
    try:
        return float(text) != 0
    except ValueError:
        return False


def normalise(value: Any) -> Any:
    """The public shape of a result: str | list[str | ComplexValue] | None | IGNORE_FLOW (Redacted kept as such)."""
    if value is None or value is MISSING:
        return None
    if isinstance(value, str | ComplexValue) or value is IGNORE_FLOW:
        return value
    if isinstance(value, list | tuple):
        return [v for v in (normalise(item) for item in value) if v is not None]
    return to_str(value)


class TenantDirectory(Protocol):
    """What DefaultDomain() asks the source tenant."""

    def default_domain(self) -> str | None:
        """The tenant's default verified domain; None when it has none. May raise EvaluationError."""


class TargetDirectory(Protocol):
    """What SelectUniqueValue() asks the target system."""

    def taken(self, attribute: str, candidates: Sequence[str]) -> set[str]:
        """The candidates already used by `attribute` of some object in the target. May raise EvaluationError."""

    def reserve(self, attribute: str, value: str) -> None:
        """`value` was picked for one user: it counts as taken for the others."""


class Context:
    """What one evaluation sees: the source user, a clock fixed for the whole evaluation, and (when the caller has
    them) the source tenant and the target system, plus the target attribute being computed."""

    __slots__ = ("user", "_now", "directory", "target", "target_attribute")

    def __init__(
        self,
        user,
        now=None,
        *,
        directory: TenantDirectory | None = None,
        target: TargetDirectory | None = None,
        target_attribute: str = "",
    ) -> None:
        self.user = user
        self._now = now
        self.directory = directory
        self.target = target
        self.target_attribute = target_attribute

    @property
    def now(self):
        if self._now is None:
            self._now = datetime.now(UTC)
        return self._now
