"""How a value of each Salesforce field type is sent and compared: one table, {type: TargetType(to_salesforce,
comparable)}. Checkboxes take true/false, numbers numbers, dates yyyy-MM-dd and date/times ISO 8601 in UTC,
multi-select picklists their values joined with ";", references an Id (compared by its 15 identifying characters),
text the value as it is (AppRoleAssignmentsComplex's roles as a JSON array). A value a field cannot take fails its
user with ConversionError's message rather than being sent for Salesforce to refuse.

The engine's exporter sends `to_salesforce(value)`; its planner compares `comparable(value)` of what the mappings
produce with what Salesforce holds, so a value Salesforce stores in another form ("True" sent, true read back)
is not written again every cycle. An attribute's type is the org's own (describe, read by Refresh target
attributes), else the standard attribute's (targets.py), else told by its name (UserPermissions* and
UserPreferences* fields are checkboxes). A new field type is one row of TARGET_TYPES.

Redact()-ed values are sent as they are and compared by a fingerprint (`redaction_marker`), never kept readable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from connections.models import Application
from mappings.expressions import ComplexValue, EvaluationError, Redacted
from mappings.expressions.dotnet_datetime import parse_date
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


def _text(value: Any) -> str:
    return format(value, "f") if isinstance(value, Decimal) else str(value)


def as_text(value: Any) -> Any:
    """A text field: a multi-valued value joined with ";"; complex values (AppRoleAssignmentsComplex's roles) as a
    JSON array of the JSON Entra writes for each."""
    if isinstance(value, ComplexValue):
        return value.text
    if isinstance(value, list | tuple):
        if any(isinstance(v, ComplexValue) for v in value):
            return "[" + ",".join(v.text if isinstance(v, ComplexValue) else json.dumps(str(v)) for v in value) + "]"
        return ";".join(_text(v) for v in value)
    return value


def comparable_text(value: Any) -> Any:
    return comparable(as_text(value))


def as_picklist_values(value: Any) -> Any:
    """A multi-select picklist: its values joined with ";" (a complex value gives its "value")."""
    items = value if isinstance(value, list | tuple) else [value]
    names = [v.get("value") if isinstance(v, ComplexValue) else v for v in items if v not in (None, "")]
    return ";".join(_text(v) for v in names if v not in (None, ""))


def comparable_picklist_values(value: Any) -> Any:
    """The same values in any order are the same selection (Salesforce returns them in its own order)."""
    if isinstance(value, str):
        value = value.split(";")
    joined = as_picklist_values(value)
    return tuple(sorted(joined.split(";"))) if joined else None


class ConversionError(ValueError):
    """The value cannot be written to a field of that type; the message says what was wrong."""


def _number(value: Any, whole: bool) -> Any:
    if isinstance(value, bool):
        raise ConversionError(f"{value!r} is not a number")
    if isinstance(value, int | float | Decimal):
        number = Decimal(str(value))
    else:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ConversionError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise ConversionError(f"{value!r} is not a number")
    if whole:
        if number != number.to_integral_value():
            raise ConversionError(f"{value!r} is not a whole number")
        return int(number)
    return float(number)


def as_integer(value: Any) -> Any:
    return _number(value, whole=True)


def as_decimal(value: Any) -> Any:
    return _number(value, whole=False)


def _comparable_number(whole: bool) -> Callable[[Any], Any]:
    def compare(value: Any) -> Any:
        if value is None or value == "" or value == []:
            return None
        try:
            number = _number(value, whole)
        except ConversionError:
            return comparable(value)
        return str(int(number)) if float(number).is_integer() else repr(float(number))

    return compare


def as_date(value: Any) -> Any:
    """A date field: yyyy-MM-dd of the UTC date (the expression language's dates are UTC)."""
    return _moment(value).date().isoformat()


def as_datetime(value: Any) -> Any:
    """A date/time field: ISO 8601 in UTC."""
    return _moment(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(value: Any):
    try:
        return parse_date(value)
    except EvaluationError as exc:
        raise ConversionError(exc.message) from None


def _comparable_moment(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def compare(value: Any) -> Any:
        if value is None or value == "" or value == []:
            return None
        try:
            return convert(value)
        except ConversionError:
            return comparable(value)

    return compare


def comparable_reference(value: Any) -> Any:
    """A record Id: the 15 characters that identify it (Salesforce answers with the 18-character form)."""
    text = comparable(value)
    return text[:15] if isinstance(text, str) and len(text) == 18 else text


@dataclass(frozen=True)
class TargetType:
    to_salesforce: Callable[[Any], Any]
    comparable: Callable[[Any], Any]


_INTEGER = TargetType(as_integer, _comparable_number(whole=True))
_DECIMAL = TargetType(as_decimal, _comparable_number(whole=False))
TARGET_TYPES: dict[str, TargetType] = {
    "boolean": TargetType(as_checkbox, comparable_checkbox),
    "int": _INTEGER,
    "integer": _INTEGER,
    "long": _INTEGER,
    "double": _DECIMAL,
    "currency": _DECIMAL,
    "percent": _DECIMAL,
    "date": TargetType(as_date, _comparable_moment(as_date)),
    "datetime": TargetType(as_datetime, _comparable_moment(as_datetime)),
    "multipicklist": TargetType(as_picklist_values, comparable_picklist_values),
    "multi-valued": TargetType(as_picklist_values, comparable_picklist_values),
    "reference": TargetType(as_text, comparable_reference),
}
OTHER = TargetType(as_text, comparable_text)
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
        """The value as Salesforce takes it for the attribute's type; raises ConversionError when it cannot be."""
        if is_redacted(value):
            return str(value)
        return self.of(attribute).to_salesforce(value)

    def comparable(self, attribute: str, value: Any) -> Any:
        if is_redacted(value):
            return redaction_marker(value)
        return self.of(attribute).comparable(value)
