"""Assigning users and groups to the enterprise application from the console: who a typed principal is, and the
Graph calls that add or remove an assignment. The stored snapshot takes the change at once (directory/snapshot.py).

Two administrators at once (console/concurrency.py): the page carries the snapshot's `edit_version`, and a change of a
user's or group's assignments is refused when someone changed that same user's or group's assignments from the console
after the page was loaded (changes of others pass). The check and the claim are one conditional UPDATE, made before
the Graph call and recorded with what is about to change; a Graph call that fails leaves the record saying nothing
changed. No lock is held while Graph answers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from connections.clients.errors import NotFound
from connections.clients.graph import GraphClient
from console.concurrency import (
    MAX_ROUNDS,
    Conflict,
    ConflictRow,
    EditConflict,
    EditRecord,
    change,
    history,
    only_other_fields,
    write_record,
)
from mappings.directory.models import AssignmentSnapshot, SnapshotAssignment

PRINCIPAL_SELECT = ["id", "userPrincipalName", "displayName", "mail"]


@dataclass
class Principal:
    id: str
    type: str  # "User" or "Group"
    name: str  # a user's UPN, a group's display name
    details: dict  # as Graph gave it (id, displayName, userPrincipalName, mail)


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def resolve_principal(graph: GraphClient, principal: str) -> Principal:
    """A user's UPN or object ID, or a group's object ID, as Graph knows it.

    Raises NotFound with a message naming what was looked for.
    """
    principal = principal.strip()
    try:
        user = graph.get_user(principal, PRINCIPAL_SELECT)
        name = user.get("userPrincipalName") or user.get("displayName") or user["id"]
        return Principal(user["id"], "User", name, user)
    except NotFound:
        if not _is_guid(principal):
            raise NotFound(f"No user {principal} in the tenant.", code="Request_ResourceNotFound") from None
    try:
        group = graph.get(f"groups/{principal}", {"$select": "id,displayName"})
    except NotFound:
        raise NotFound(
            f"No user or group with object ID {principal} in the tenant.", code="Request_ResourceNotFound"
        ) from None
    return Principal(group["id"], "Group", group.get("displayName") or group["id"], group)


def principal_field(principal_id: str) -> str:
    """The `field` of an EditRecord change of one user's or group's assignments."""
    return f"principal:{principal_id.lower()}"


def roles_listed(application, principal_id: str) -> str:
    """The roles a user or group is assigned, as the stored snapshot lists them."""
    rows = SnapshotAssignment.objects.filter(application=application, principal_id=principal_id.lower())
    return ", ".join(sorted(rows.values_list("role_label", flat=True), key=str.casefold))


def claim(
    snapshot: AssignmentSnapshot,
    *,
    expected: int,
    principal_id: str,
    label: str,
    before: str,
    after: str,
    actor,
    summary: str,
) -> EditRecord:
    """Check that nobody changed this principal's assignments from the console since version `expected`, and claim the
    next version with a record of the change about to be made, in one conditional UPDATE. Raises EditConflict (its
    rows: the assignments when the page was opened, now, and what was asked) when someone did."""
    name = principal_field(principal_id)
    version = expected
    for _round in range(MAX_ROUNDS):
        with transaction.atomic():
            if AssignmentSnapshot.objects.filter(pk=snapshot.pk, edit_version=version).update(
                edit_version=F("edit_version") + 1
            ):
                return write_record(
                    snapshot, version + 1, [change(name, label, before, after)], actor=actor, summary=summary
                )
        current = AssignmentSnapshot.objects.filter(pk=snapshot.pk).values_list("edit_version", flat=True).first()
        records = history(AssignmentSnapshot, snapshot.pk, after=expected)
        if current is None or not only_other_fields(records, {name}, expected, current):
            raise EditConflict(_conflict(records, current, name, label, before, after))
        version = current  # only other users' or groups' assignments changed meanwhile
    raise EditConflict(_conflict(history(AssignmentSnapshot, snapshot.pk, after=expected), version, name, label,
                                 before, after))  # fmt: skip


def _conflict(records, current, name: str, label: str, now: str, asked: str) -> Conflict:
    mine = [c for r in records for c in r.changes if c["field"] == name]
    opened = mine[0]["before"] if mine else ""
    return Conflict(
        records=list(records),
        current_version=current,
        rows=[ConflictRow(label, opened, now, asked, they_changed=bool(mine), you_changed=True)],
    )


def settle(record: EditRecord, *, done: bool, summary: str = "") -> None:
    """After the Graph call: a change that was not made leaves a record that changed nothing (it refuses nobody)."""
    if not done:
        EditRecord.objects.filter(pk=record.pk).update(changes=[], summary=summary[:500])
