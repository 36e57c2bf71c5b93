"""How a value of each Salesforce field type is sent and compared: one table, {type: TargetType(to_salesforce,
comparable)}.

The engine's exporter sends `to_salesforce(value)`; its planner compares `comparable(value)` of what the mappings
produce with what Salesforce holds, so a value Salesforce stores in another form ("True" sent, true read back)
is not written again every cycle. An attribute's type is the org's own (describe, read by Refresh target
attributes), else the standard attribute's (targets.py), else told by its name (UserPermissions* and
UserPreferences* fields are checkboxes). A new field type is one row of TARGET_TYPES.

Redact()-ed values are sent as they are and compared by a fingerprint (`redaction_marker`), never kept readable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connections.models import Application
from mappings.expressions import Redacted
from mappings.models import TargetAttribute
from mappings.targets import STANDARD_TARGET_ATTRIBUTES

CHECKBOX_PREFIXES = ("UserPermissions", "UserPreferences")


def is_redacted(value: Any) -> bool:
    return isinstance(value, Redacted)


def redaction_marker(value: str) -> str:
    """What is remembered of a Redact()-ed value: enough to notice a change, nothing to read it back."""
    return "[Redact]:" + hashlib.sha256(value.encode()).hexdigest()[:32]


def comparable(value: Any) -> Any:
    """A value as compared: booleans and "True"/"false" alike, blanks as None, lists as tuples, 2.0 as "2"."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if is_redacted(value):
            return redaction_marker(value)
        if value.lower() in ("true", "false"):
            return value.lower()
        return value
    if isinstance(value, list | tuple):
        return tuple(comparable(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_checkbox(value: Any) -> bool:
    """A checkbox as Salesforce takes it: "true" (any case) or a true value is checked."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def comparable_checkbox(value: Any) -> str | None:
    """A checkbox as compared: whatever `as_checkbox` would send, blanks as None."""
    if value is None or value == "" or value == []:
        return None
    return "true" if as_checkbox(value) else "false"


def as_text(value: Any) -> Any:
    """Any other field: lists (multi-select picklists) joined with ";", the rest as it is."""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return value


@dataclass(frozen=True)
class TargetType:
    to_salesforce: Callable[[Any], Any]
    comparable: Callable[[Any], Any]


TARGET_TYPES: dict[str, TargetType] = {
    "boolean": TargetType(as_checkbox, comparable_checkbox),
}
OTHER = TargetType(as_text, comparable)
STANDARD_TYPES = {attribute.name: attribute.type.lower() for attribute in STANDARD_TARGET_ATTRIBUTES}


class TargetTypes:
    """The type of each target attribute of one application, and the conversions it calls for."""

    def __init__(self, described: Mapping[str, str] | None = None) -> None:
        self.described = {name: kind.lower() for name, kind in (described or {}).items()}

    @classmethod
    def for_application(cls, application: Application) -> TargetTypes:
        """The types the org described (one query), over the standard ones."""
        rows = TargetAttribute.objects.filter(application=application).values_list("name", "type")
        return cls(dict(rows))

    def type_name(self, attribute: str) -> str:
        if attribute in self.described:
            return self.described[attribute]
        if attribute in STANDARD_TYPES:
            return STANDARD_TYPES[attribute]
        return "boolean" if attribute.startswith(CHECKBOX_PREFIXES) else "string"

    def of(self, attribute: str) -> TargetType:
        return TARGET_TYPES.get(self.type_name(attribute), OTHER)

    def to_salesforce(self, attribute: str, value: Any) -> Any:
        if is_redacted(value):
            return str(value)
        return self.of(attribute).to_salesforce(value)

    def comparable(self, attribute: str, value: Any) -> Any:
        if is_redacted(value):
            return redaction_marker(value)
        return self.of(attribute).comparable(value)
