"""The rules Salesforce applies when a User is created or updated, with its error codes and messages."""

from __future__ import annotations

import re
from typing import Any

from emulators.salesforce.schema import FIELD_INDEX
from emulators.salesforce.state import SalesforceState

REQUIRED_ON_CREATE = (
    "Username",
    "LastName",
    "Email",
    "Alias",
    "TimeZoneSidKey",
    "LocaleSidKey",
    "EmailEncodingKey",
    "ProfileId",
    "LanguageLocaleKey",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DUPLICATE_USERNAME = (
    "Duplicate Username.<br>The username already exists in this or another Salesforce organization. Usernames must "
    "be unique across all Salesforce organizations. To resolve, use a different username (it doesn't need to match "
    "the user's email address). "
)


class UserError(Exception):
    """One validation failure, in Salesforce's error shape."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.fields = code, message, fields or []

    def as_error(self, key: str = "errorCode") -> dict[str, Any]:
        return {key: self.code, "message": self.message, "fields": self.fields}


def _coerce(name: str, value: Any) -> Any:
    field = FIELD_INDEX["User"][name.lower()]
    if value is None:
        return None
    if field.type == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise UserError("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{name}: value not of required type: {value}", [name])
    if field.type == "double":
        return _double(name, value)
    if not isinstance(value, str):
        if isinstance(value, (int, float)):
            return str(value)
        raise UserError(
            "JSON_PARSER_ERROR", f"Cannot deserialize instance of string from {type(value).__name__}", [name]
        )
    if field.type in _MOMENTS and value and not _MOMENTS[field.type].fullmatch(value):
        raise UserError(
            "JSON_PARSER_ERROR",
            f"Cannot deserialize instance of {field.type} from VALUE_STRING value {value} or request may be missing "
            "a required field",
            [name],
        )
    return value


# What Salesforce's REST API reads as a date and a date/time (ISO 8601).
_MOMENTS = {
    "date": re.compile(r"\d{4}-\d{2}-\d{2}"),
    "datetime": re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?"),
}


def _double(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise UserError("JSON_PARSER_ERROR", f"Cannot deserialize instance of double from {value!r}", [name])
    try:
        return float(value)
    except ValueError:
        raise UserError(
            "JSON_PARSER_ERROR", f"Cannot deserialize instance of double from VALUE_STRING value {value}", [name]
        ) from None


def normalise(values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Map field names to their canonical case and types; reject unknown and read-only fields."""
    clean: dict[str, Any] = {}
    for raw, value in values.items():
        if raw == "attributes" or (raw.lower() == "id" and not creating):
            continue
        field = FIELD_INDEX["User"].get(raw.lower())
        if field is None:
            raise UserError("INVALID_FIELD", f"No such column '{raw}' on sobject of type User", [raw])
        if not (field.createable if creating else field.updateable):
            action = "insert" if creating else "update"
            raise UserError(
                "INVALID_FIELD_FOR_INSERT_UPDATE",
                f"Unable to create/update fields: {field.name}. Please check the "
                f"security settings of this field and verify that it is read/write for your profile or permission "
                f"set ({action}).",
                [field.name],
            )
        clean[field.name] = _coerce(field.name, value)
    return clean


def validate(state: SalesforceState, values: dict[str, Any], existing: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the cleaned values to store, or raise UserError with the first problem Salesforce would report."""
    creating = existing is None
    clean = normalise(values, creating=creating)
    merged = dict(existing or {})
    merged.update(clean)
    missing = [f for f in REQUIRED_ON_CREATE if merged.get(f) in (None, "")]
    if missing:
        raise UserError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing)
    for name, value in clean.items():
        field = FIELD_INDEX["User"][name.lower()]
        if isinstance(value, str) and field.length and len(value) > field.length and field.type != "reference":
            raise UserError(
                "STRING_TOO_LONG",
                f"{field.label or name}: data value too large: {value[:40]} (max length={field.length})",
                [name],
            )
        chosen = value.split(";") if field.type == "multipicklist" and isinstance(value, str) else [value]
        if field.picklist and value is not None and any(v not in field.picklist for v in chosen):
            raise UserError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{name}: bad value for restricted picklist field: {value}",
                [name],
            )
    uid = existing["Id"] if existing else None
    if "Username" in clean:
        if not _EMAIL.match(clean["Username"]):
            raise UserError(
                "INVALID_NEW_USERNAME",
                "Username must be in the form of an email address (for example, john@acme.com)",
                ["Username"],
            )
        if state.username_taken(clean["Username"], uid):
            raise UserError("DUPLICATE_USERNAME", DUPLICATE_USERNAME, ["Username"])
    if "Email" in clean and not _EMAIL.match(clean["Email"] or ""):
        raise UserError("INVALID_EMAIL_ADDRESS", f"Email: invalid email address: {clean['Email']}", ["Email"])
    nickname = clean.get("CommunityNickname")
    if nickname:
        owner = state.by_nickname.get(nickname.lower())
        if owner is not None and owner != uid:
            raise UserError(
                "DUPLICATE_COMM_NICKNAME",
                "Duplicate Nickname.<br>Another user has already selected this nickname.<br>Please select another.",
                ["CommunityNickname"],
            )
    federation = clean.get("FederationIdentifier")
    if federation:
        owner = state.by_federation.get(federation.lower())
        if owner is not None and owner != uid:
            raise UserError(
                "DUPLICATE_VALUE",
                "This Federation ID is already in use. Use a different Federation ID.",
                ["FederationIdentifier"],
            )
    _check_reference(state, clean, "ProfileId", "00e", state.profiles)
    _check_reference(state, clean, "UserRoleId", "00E", state.roles)
    _check_reference(state, clean, "ManagerId", "005", state.users)
    _check_licence(state, merged, existing)
    if existing and existing.get("IsActive") and clean.get("IsActive") is False:
        blocker = state.deactivation_blockers.get(existing["Id"])
        if blocker:
            # Salesforce Help, "Considerations for Deactivating Users" and knowledge articles 000384586 / 000384761:
            # a user who is a default lead or case owner, the default workflow user, a web-to-lead creator, an
            # approver or delegated approver, or selected in a custom hierarchy field cannot be deactivated; the API
            # refuses the IsActive change with FIELD_INTEGRITY_EXCEPTION and the same sentence the page shows.
            raise UserError("FIELD_INTEGRITY_EXCEPTION", f"You cannot deactivate this user. {blocker}", ["IsActive"])
    return clean


def _check_reference(state: SalesforceState, clean: dict[str, Any], name: str, prefix: str, table: dict) -> None:
    value = clean.get(name)
    if not value:
        return
    if not value.startswith(prefix):
        raise UserError("FIELD_INTEGRITY_EXCEPTION", f"{name}: id value of incorrect type: {value}", [name])
    resolved = state.resolve_id(value, table)
    if resolved is None:
        raise UserError("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id", [name])  # noqa: F541
    clean[name] = resolved


def _check_licence(state: SalesforceState, merged: dict[str, Any], existing: dict[str, Any] | None) -> None:
    if not merged.get("IsActive", True):
        return
    licence = state.licence_of_profile(merged.get("ProfileId"))
    was_counted = bool(
        existing and existing.get("IsActive") and state.licence_of_profile(existing["ProfileId"]) == licence
    )
    if licence and not was_counted and state.used_licences(licence) >= state.licences[licence]["TotalLicenses"]:
        raise UserError("LICENSE_LIMIT_EXCEEDED", "License Limit Exceeded", [])
