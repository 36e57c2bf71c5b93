"""User writes with Salesforce's validation, and an undo journal for allOrNone requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from emulators.salesforce import access
from emulators.salesforce.access import AccessError
from emulators.salesforce.state import SalesforceState, now_iso
from emulators.salesforce.validation import UserError, validate


class Journal:
    """Undo steps of the writes of one request, replayed backwards when an allOrNone request fails."""

    def __init__(self) -> None:
        self.undo: list[Callable[[], None]] = []

    def rollback(self) -> None:
        while self.undo:
            self.undo.pop()()


# The sObject of an access record by its Id prefix (deletes name only the Id).
SOBJECT_OF_PREFIX = {"0Pa": "PermissionSetAssignment", "2LA": "PermissionSetLicenseAssign", "011": "GroupMember"}


def _lock_fault(state: SalesforceState, sobject: str) -> None:
    if state.unable_to_lock_next > 0 and state.unable_to_lock_sobject in ("", sobject):
        state.unable_to_lock_next -= 1
        raise UserError("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records", [])


def create_user(state: SalesforceState, values: dict[str, Any], journal: Journal | None = None) -> str:
    """Validate and insert; raises UserError."""
    if any(k.lower() == "id" for k in values):
        raise UserError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
    _lock_fault(state, "User")
    clean = validate(state, values)
    uid = state.insert_user(clean)
    if journal is not None:
        journal.undo.append(lambda: _remove(state, uid))
    return uid


def update_user(state: SalesforceState, uid: str, values: dict[str, Any], journal: Journal | None = None) -> str:
    """Validate and apply; `uid` may be 15 or 18 characters; raises UserError."""
    record = state.user_by_any_id(uid) if uid else None
    if record is None:
        if not uid or not uid.startswith("005") or len(uid) not in (15, 18):
            raise UserError("MALFORMED_ID", f"User ID: id value of incorrect type: {uid}", ["Id"])
        raise UserError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
    _lock_fault(state, "User")
    clean = validate(state, values, existing=record)
    before = dict(record)
    state.update_user(record["Id"], clean)
    if journal is not None:
        journal.undo.append(lambda: _restore(state, before))
    return record["Id"]


def _remove(state: SalesforceState, uid: str) -> None:
    record = state.users[uid]
    state._unindex(record)
    del state.users[uid]


def _restore(state: SalesforceState, before: dict[str, Any]) -> None:
    record = state.users[before["Id"]]
    state._unindex(record)
    record.clear()
    record.update(before)
    state._index(record)


def _write_one(
    state: SalesforceState, obj: str | None, values: dict[str, Any], operation: str, journal: Journal
) -> str:
    """One record of a collection: a User, an access assignment (create) or a UserLogin (update)."""
    if obj == "User":
        if operation == "create":
            return create_user(state, values, journal)
        target = next((v for k, v in values.items() if k.lower() == "id"), None)
        if not target:
            raise UserError("MISSING_ARGUMENT", "Id not specified in an update call", [])
        return update_user(state, target, values, journal)
    if operation == "create" and obj in access.CREATE_FIELDS:
        _lock_fault(state, obj)
        record_id, undo = access.create(state, obj, values, now_iso())
    elif operation == "update" and obj == "UserLogin":
        record_id, undo = access.update_login(state, values)
    else:
        verb = "inserted" if operation == "create" else "updated"
        raise UserError("INVALID_TYPE_FOR_OPERATION", f"entity type cannot be {verb}: {obj}", [])
    if undo is not None:
        journal.undo.append(undo)
    return record_id


def collection_results(
    state: SalesforceState, records: list[dict[str, Any]], all_or_none: bool, operation: str
) -> list[dict[str, Any]]:
    """Per-record results in input order, the way sObject Collections answer (statusCode, not errorCode)."""
    journal = Journal()
    results: list[dict[str, Any]] = []
    failed = False
    for record in records:
        obj = (record.get("attributes") or {}).get("type")
        values = {k: v for k, v in record.items() if k != "attributes"}
        try:
            uid = _write_one(state, obj, values, operation, journal)
            results.append({"id": uid, "success": True, "errors": []})
        except (UserError, AccessError) as err:
            failed = True
            results.append({"id": None, "success": False, "errors": [err.as_error("statusCode")]})
    if all_or_none and failed:
        journal.rollback()
        results = _rolled_back(results)
    return results


def delete_results(state: SalesforceState, ids: list[str], all_or_none: bool) -> list[dict[str, Any]]:
    """DELETE /composite/sobjects?ids=...: per-id results in input order."""
    journal = Journal()
    results: list[dict[str, Any]] = []
    failed = False
    for record_id in ids:
        try:
            _lock_fault(state, SOBJECT_OF_PREFIX.get(str(record_id)[:3], ""))
            journal.undo.append(access.delete(state, record_id))
            results.append({"id": record_id, "success": True, "errors": []})
        except (UserError, AccessError) as err:
            failed = True
            results.append({"id": record_id, "success": False, "errors": [err.as_error("statusCode")]})
    if all_or_none and failed:
        journal.rollback()
        results = _rolled_back(results)
    return results


def _rolled_back(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rolled = {
        "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
        "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
        "fields": [],
    }
    return [r if not r["success"] else {"id": None, "success": False, "errors": [dict(rolled)]} for r in results]
