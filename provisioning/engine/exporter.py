"""Export: send the planned writes to Salesforce in collections, and honour each record's own result.

Values are sent as their target attribute's type says (mappings/target_types.py); ProfileName is resolved to a
ProfileId from the org's profiles, read once a cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connections.clients.errors import RemoteError
from connections.clients.salesforce import RecordResult, WriteInterrupted
from mappings.target_types import ConversionError, TargetTypes
from mappings.targets import VIRTUAL_TARGET_ATTRIBUTES
from provisioning.engine.items import NOT_WRITTEN, ItemError, PageStopped, PlanKind, WorkItem
from provisioning.engine.writer import ProfileCache, SalesforceWriter

# Salesforce status codes -> the codes Entra's provisioning logs use, with what to do about them.
ERROR_CODES: dict[str, tuple[str, str]] = {
    "DUPLICATE_USERNAME": (
        "SalesforceDuplicateUserName",
        "Usernames are unique across every Salesforce org: change the user's userPrincipalName or the sandbox "
        "suffix, or free the username in the other org. The user is retried in later cycles.",
    ),
    "REQUIRED_FIELD_MISSING": (
        "SalesforceRequiredFieldMissing",
        "Give the missing attribute a value in Entra, or a default value in the attribute mapping.",
    ),
    "LICENSE_LIMIT_EXCEEDED": (
        "SalesforceLicenseLimitExceeded",
        "No licence of the profile's type is left in the org: free or buy licences, or assign another profile.",
    ),
    "INVALID_CROSS_REFERENCE_KEY": ("InvalidAnchor", "The Salesforce user no longer exists; Restart provisioning."),
    "ENTITY_IS_DELETED": ("InvalidAnchor", "The Salesforce user no longer exists; Restart provisioning."),
    "FIELD_INTEGRITY_EXCEPTION": ("Conflict", "Fix the attribute value in Entra or the mapping."),
    "INVALID_EMAIL_ADDRESS": ("InvalidDomain", "Fix the user's mail attribute in Entra."),
    "STRING_TOO_LONG": ("SchemaPropertyCanOnlyAcceptValue", "Shorten the value with the mapping (Mid, Left)."),
    "INVALID_FIELD": ("SchemaAttributeNotFound", "Remove the mapping of a field the org does not have."),
}
NOT_WRITTEN_CODE = "SalesforceNotWritten"  # the cycle stopped before the user's write was sent (escrow: next cycle)


class Exporter:
    def __init__(self, client: SalesforceWriter, profiles: ProfileCache, types: TargetTypes) -> None:
        self.client = client
        self.profiles = profiles
        self.types = types

    def record_for(self, item: WorkItem) -> dict | None:
        """The Salesforce record of a planned write; None (and the item failed) when it cannot be sent."""
        assert item.plan is not None
        record: dict[str, Any] = {}
        for name, value in item.plan.changes.items():
            if name == "ProfileName":
                profile_id = self.profiles.id_of(str(value))
                if profile_id is None:
                    item.fail(
                        ItemError(
                            "SalesforceProfileNotFound",
                            f"Profile '{value}' does not exist in the org: import roles or fix the assignment.",
                            "Import the org's profiles as app roles (Provisioning > Mappings) or assign the user "
                            "a role that names an existing profile.",
                            step="export",
                        )
                    )
                    return None
                record["ProfileId"] = profile_id
            elif name not in VIRTUAL_TARGET_ATTRIBUTES:
                try:
                    record[name] = self.types.to_salesforce(name, value)
                except ConversionError as exc:
                    kind = self.types.type_name(name)
                    item.fail(
                        ItemError(
                            "SchemaPropertyCanOnlyAcceptValue",
                            f"{name} is a {kind} field in Salesforce and cannot take this value: {exc}.",
                            f"Change the mapping of {name} so that it gives a {kind} value, or the field's type in "
                            "the attribute list for Salesforce.",
                            step="export",
                        )
                    )
                    return None
        if item.plan.kind != PlanKind.CREATE:
            record["Id"] = item.target_id
        return record

    def export(self, items: Sequence[WorkItem]) -> None:
        """Create and update in collections; each item gets its own result (one bad user fails alone).

        Cut short by an error that ends the cycle (the org's request limit, a stop-class error), the users Salesforce
        wrote keep their results (a created user its Id), the others fail as not written (retried in the next
        cycle), and PageStopped is raised so that the page is recorded before the cycle ends."""
        creates: list[tuple[WorkItem, dict]] = []
        updates: list[tuple[WorkItem, dict]] = []
        for item in items:
            record = self.record_for(item)
            if record is None:
                continue
            (creates if item.plan.kind == PlanKind.CREATE else updates).append((item, record))
        stopped: RemoteError | None = None
        try:
            created, updated = self._save([record for _, record in creates], [record for _, record in updates])
        except WriteInterrupted as interrupted:
            (created, updated), stopped = interrupted.results, interrupted.error
        self._apply([item for item, _ in creates], created, stopped)
        self._apply([item for item, _ in updates], updated, stopped)
        if stopped is not None:
            raise PageStopped(stopped)

    def _save(self, creates: list[dict], updates: list[dict]) -> tuple[list[RecordResult], list[RecordResult]]:
        """(create results, update results); WriteInterrupted carries both, None for each record not written."""
        save_users = getattr(self.client, "save_users", None)
        if creates and updates and save_users is not None:  # both kinds share Composite calls
            return save_users(creates, updates)
        results: list[list] = [[None] * len(creates), [None] * len(updates)]
        sends = ((self.client.create_users, creates), (self.client.update_users, updates))  # creates first
        for index, (send, records) in enumerate(sends):
            if not records:
                continue
            try:
                results[index] = send(records)
            except WriteInterrupted as interrupted:
                results[index] = interrupted.results
                raise WriteInterrupted(interrupted.error, results) from None
        return results[0], results[1]

    def _apply(
        self, items: Sequence[WorkItem], results: Sequence[RecordResult | None], stopped: RemoteError | None
    ) -> None:
        for item, result in zip(items, results, strict=True):
            if result is None:
                item.fail(
                    ItemError(
                        NOT_WRITTEN_CODE,
                        f"{NOT_WRITTEN} [{stopped.code}]",
                        "Nothing to do: the user is retried in the next cycle.",
                        step="export",
                        category="nonServiceFailure",
                    )
                )
                continue
            if result.ok:
                if result.id:
                    item.target_id = result.id
                continue
            code, recommendation = ERROR_CODES.get(result.code, (result.code or "UnprocessableEntity", ""))
            fields = f" (fields: {', '.join(result.fields)})" if result.fields else ""
            item.fail(
                ItemError(
                    code,
                    f"Salesforce refused the record: {result.message}{fields} [{result.code}]",
                    recommendation,
                    step="export",
                    category="failure",
                    remote_code=result.code,
                )
            )
