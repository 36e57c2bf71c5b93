"""Keeping the stored assignment snapshot current between full reads, at the cost of what changed.

Which Graph mechanism, and why (Microsoft Graph documentation):

- Delta queries (https://learn.microsoft.com/graph/delta-query-overview) track users and groups: a round ends with an
  `@odata.deltaLink` whose `$deltatoken` asks next time for what changed since; `$deltatoken=latest` gives a link
  "from now on" without data ("sync from now", users and groups). Among relationships they track only a user's
  **manager** and a group's **members** (`$select=members`, answered as `members@delta`, a removed member carrying
  `@removed`: https://learn.microsoft.com/graph/delta-query-groups). App role assignments are not a supported delta
  resource, and neither users/delta nor servicePrincipals/delta reports `appRoleAssignedTo`: adding or removing an
  assignment changes no delta.
- So each incremental cycle reads `GET /servicePrincipals/{id}/appRoleAssignedTo` in full
  (https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignedto; 999 to a page), the one documented
  way to see an assignment added or removed, and compares it with the stored rows: an assignment added or removed in
  Entra reaches Salesforce in the next cycle, within one interval. Its cost grows with the assignments of users
  (groups are one row each), not with the users reached through groups.
- Membership of the assigned groups comes from one groups/delta link (`$select=members`), taken with
  `$deltatoken=latest` just before each full read so that nothing between the two is missed (a change seen twice is
  applied twice to the same result). It covers the tenant's groups, so a group assigned later is followed too;
  changes in groups that reach nobody through the application are skipped.
- A full read (snapshot.refresh) remains the reconciliation: at least every RECONCILE_AFTER, and whenever what
  changed cannot be applied exactly: a group assigned (its members must be read), a change inside a nested group or
  in an assigned group that contains groups (a user may stay a member through another path), a group deleted, the app
  roles changed, or the delta link expired (410).

`follow(application, reader)` returns the users whose assignments changed (their roles are then in the snapshot),
or says that it made a full read instead (the caller then compares everyone). The snapshot changes before the users
are provisioned, so they stay pending on it until the cycle calls `provisioned(application)`: a cycle that fails
in between leaves them to the next one (after a full read, the next cycle reads in full again).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from connections.clients.errors import DeltaExpired, RemoteError
from mappings.directory.assignments import DETAILS_SELECT, AssignmentReader
from mappings.directory.models import (
    AssignmentSnapshot,
    PrincipalType,
    SnapshotAssignment,
    SnapshotGrant,
    SnapshotSource,
)
from mappings.directory.snapshot import StoredAssignments, apply, refresh, snapshot_of

RECONCILE_AFTER = timedelta(hours=24)
EVERYONE = "*"  # pending_users: the whole last full read
GROUP = "#microsoft.graph.group"


@dataclass
class Followed:
    """What following the changes found: `full` when a full read was made instead (`roles_by_user` is then the
    whole map), else the users whose assignments changed."""

    full: bool
    affected: set[str] = field(default_factory=set)
    roles_by_user: dict[str, tuple[str, ...]] | None = None
    reason: str = ""
    incomplete: list[str] = field(default_factory=list)  # a full read that could not read everything: why


class NeedsFullRead(Exception):
    """What changed cannot be applied to the snapshot exactly."""


def _noting_errors(function):
    """A read that fails is noted beside the snapshot (shown on the page) and raised: the cycle ends with it."""

    def wrapped(application, *args, **kwargs):
        try:
            return function(application, *args, **kwargs)
        except RemoteError as exc:
            AssignmentSnapshot.objects.filter(application=application).update(
                error=f"Reading the assignments from Microsoft Graph failed: {exc}"[:2000], error_at=timezone.now()
            )
            raise

    wrapped.__doc__ = function.__doc__
    return wrapped


@_noting_errors
def full_read(application, reader: AssignmentReader, reason: str) -> Followed:
    """The reconciliation: a groups/delta link from now on, then everything read and stored."""
    snapshot_of(application)
    link = reader.graph.latest_group_delta_link()
    refreshed = refresh(application, reader, source=SnapshotSource.CYCLE)
    groups = list(
        SnapshotAssignment.objects.filter(application=application, principal_type=PrincipalType.GROUP)
        .values_list("principal_id", flat=True)
        .distinct()
    )
    nested = reader.graph.nested_groups(groups) if groups else {}
    AssignmentSnapshot.objects.filter(application=application).update(
        group_delta_link=link, nested_groups=nested, pending_users=[EVERYONE]
    )
    return Followed(full=True, roles_by_user=refreshed.roles_by_user, reason=reason, incomplete=refreshed.incomplete)


def provisioned(application) -> None:
    """A cycle provisioned what the snapshot's changes concern (called when it completes): nothing is pending."""
    AssignmentSnapshot.objects.filter(application=application).update(pending_users=[])


@_noting_errors
def follow(application, reader: AssignmentReader) -> Followed:
    """Bring the snapshot up to date with what changed in Entra since the last cycle (or read it in full)."""
    snapshot = snapshot_of(application)
    if snapshot.refreshed_at is None or not snapshot.group_delta_link:
        return full_read(application, reader, "no full read to follow from")
    if timezone.now() - snapshot.refreshed_at >= RECONCILE_AFTER:
        return full_read(application, reader, "the periodic full read")
    if EVERYONE in (snapshot.pending_users or []):
        return full_read(application, reader, "the cycle after the last full read did not complete")
    try:
        return _follow(application, reader, snapshot)
    except NeedsFullRead as exc:
        return full_read(application, reader, str(exc))
    except DeltaExpired:
        return full_read(application, reader, "the group delta link expired")


def _follow(application, reader: AssignmentReader, snapshot: AssignmentSnapshot) -> Followed:
    book = reader.book()
    if book.roles != (snapshot.app_roles or []):
        raise NeedsFullRead("the application's app roles changed")
    current = {row.id: row for row in reader.assignments()}
    stored = dict(
        SnapshotAssignment.objects.filter(application=application).values_list("assignment_id", "principal_type")
    )
    added = [row for assignment_id, row in current.items() if assignment_id not in stored]
    removed = [assignment_id for assignment_id in stored if assignment_id not in current]
    if any(row.principal_type == PrincipalType.GROUP for row in added):
        raise NeedsFullRead("a group was assigned")
    assigned_groups = {row.principal_id for row in current.values() if row.principal_type == PrincipalType.GROUP}
    joined, left = _membership(reader, snapshot, assigned_groups)
    pending = set(snapshot.pending_users or [])
    if not (added or removed or joined or left):
        _save_link(application, reader)
        return Followed(full=False, affected=pending)
    direct = [row for row in added if row.principal_type == PrincipalType.USER and row.principal_id]
    people = {user["id"]: user for user in reader.users([row.principal_id for row in direct], DETAILS_SELECT)}
    joined_users = _people(reader, joined)
    affected: set[str] = {row.principal_id for row in direct}
    affected.update(uid for ids in left.values() for uid in ids)
    affected.update(uid for users in joined_users.values() for uid in (u["id"] for u in users))
    affected.update(
        SnapshotGrant.objects.filter(application=application, assignment_id__in=removed).values_list(
            "user_id", flat=True
        )
    )
    stored_ok = apply(
        application,
        book,
        added=[
            (row, [people.get(row.principal_id) or {"id": row.principal_id, "displayName": row.principal_name}])
            for row in direct
        ],  # fmt: skip
        removed=removed,
        joined=joined_users,
        left=left,
    )
    if not stored_ok:
        raise NeedsFullRead("the snapshot was never read in full")
    affected |= pending
    AssignmentSnapshot.objects.filter(application=application).update(pending_users=sorted(affected))
    _save_link(application, reader)
    return Followed(full=False, affected=affected)


def _membership(
    reader: AssignmentReader, snapshot: AssignmentSnapshot, assigned: set[str]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Members who joined or left the assigned groups since the stored link: (joined ids, left ids) per group."""
    nested: Mapping[str, list[str]] = snapshot.nested_groups or {}
    inside = {group for groups in nested.values() for group in groups}
    joined: dict[str, list[str]] = defaultdict(list)
    left: dict[str, list[str]] = defaultdict(list)
    for page in reader.graph.group_delta(snapshot.group_delta_link):
        for group in page:
            group_id = group.get("id") or ""
            if group_id in inside:
                raise NeedsFullRead("the membership of a nested group changed")
            if group_id not in assigned:
                continue  # a group that reaches nobody through the application
            if "@removed" in group:
                raise NeedsFullRead("an assigned group was deleted")
            changes = group.get("members@delta") or []
            if not isinstance(changes, list) or not all(isinstance(m, dict) and m.get("id") for m in changes):
                raise NeedsFullRead("groups/delta answered a membership change of the wrong shape")
            if changes and nested.get(group_id):
                raise NeedsFullRead("the membership of a group containing groups changed")
            for member in changes:
                if member.get("@odata.type") == GROUP:
                    raise NeedsFullRead("a group was added to or removed from an assigned group")
                (left if "@removed" in member else joined)[group_id].append(member["id"])
    for group_id in set(joined) & set(left):  # the last change of a member wins: replay it in order
        both = set(joined[group_id]) & set(left[group_id])
        if both:
            raise NeedsFullRead("a member joined and left a group in the same interval")
    return dict(joined), dict(left)


def _people(reader: AssignmentReader, joined: Mapping[str, list[str]]) -> dict[str, list[dict]]:
    """The users who joined, as Graph users with what the snapshot shows of them (a user deleted since is left out)."""
    ids = sorted({uid for ids in joined.values() for uid in ids})
    found = {user["id"]: user for user in reader.users(ids, DETAILS_SELECT)} if ids else {}
    return {group_id: [found[uid] for uid in ids if uid in found] for group_id, ids in joined.items()}


def _save_link(application, reader: AssignmentReader) -> None:
    link = getattr(reader.graph, "last_group_delta_link", None)
    if link:
        AssignmentSnapshot.objects.filter(application=application).update(group_delta_link=link)


class StoredRoles:
    """The assigned users' role values as the engine asks for them (`user_id in roles`, `roles.get(user_id)`), read
    from the snapshot a page at a time (`load(ids)`) rather than all at once: an incremental cycle touches few."""

    def __init__(self, application) -> None:
        self.stored = StoredAssignments(application)
        self.known: dict[str, tuple[str, ...] | None] = {}

    def load(self, user_ids) -> None:
        wanted = [uid for uid in user_ids if uid not in self.known]
        for start in range(0, len(wanted), 2000):
            chunk = wanted[start : start + 2000]
            found = self.stored.roles_for(chunk)
            self.known.update((uid, found.get(uid)) for uid in chunk)

    def get(self, user_id: str, default=None):
        if user_id not in self.known:
            self.load([user_id])
        roles = self.known[user_id]
        return default if roles is None else roles

    def __contains__(self, user_id: object) -> bool:
        return isinstance(user_id, str) and self.get(user_id) is not None
