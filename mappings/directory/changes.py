"""Keeping the stored assignment snapshot current between full reads, at the cost of what changed.

Which Graph mechanism, and why (Microsoft Graph documentation):

- Delta queries (https://learn.microsoft.com/graph/delta-query-overview) track users and groups: a round ends with an
  `@odata.deltaLink` whose `$deltatoken` asks next time for what changed since; `$deltatoken=latest` gives a link
  "from now on" without data ("sync from now", users and groups). Among relationships they track only a user's
  **manager** and a group's **members** (`$select=members`, answered as `members@delta`, a removed member carrying
  `@removed`: https://learn.microsoft.com/graph/delta-query-groups). App role assignments are not a supported delta
  resource, and neither users/delta nor servicePrincipals/delta reports `appRoleAssignedTo`: adding or removing an
  assignment changes no delta. `$count` on appRoleAssignedTo would miss an assignment removed and another added.
- What does record each assignment added or removed is the directory audit log: the Core Directory activities "Add
  app role assignment grant to user", "Remove app role assignment from user", "Add app role assignment to group" and
  "Remove app role assignment from group" (https://learn.microsoft.com/entra/identity/monitoring-health/
  reference-audit-activities), each naming the application's service principal and the user or group among its
  `targetResources`. `GET /auditLogs/directoryAudits` filters on `activityDateTime` (ge) and on targetResources by
  id (https://learn.microsoft.com/graph/api/directoryaudit-list, https://learn.microsoft.com/graph/api/resources/
  directoryaudit), with the AuditLog.Read.All application permission. So an incremental cycle asks the audit log
  which users and groups had an assignment of this application added or removed since the last cycle, in one call
  when nothing changed, then reads only those principals' own assignments (`/users/{id}/appRoleAssignments`,
  `/groups/{id}/appRoleAssignments`, `$filter=resourceId eq {sp}`, 20 to a JSON batch) and compares them with their
  stored rows. The log entry only says whom to look at: what they hold is always read from the directory itself.
- The audit log is not instant: Microsoft gives 2 minutes for 95 % and 5 minutes for 99 % of the entries to be
  reported (https://learn.microsoft.com/azure/active-directory/reports-monitoring/reference-reports-latencies, a page
  of the Azure AD documentation), with no upper bound. Each query therefore starts AUDIT_OVERLAP before the end of
  the last one: an entry seen twice costs one more read of that principal and changes nothing the second time.
  Entries are kept 7 days (Free) or 30 days
  (https://learn.microsoft.com/entra/identity/monitoring-health/reference-reports-data-retention), far beyond a
  cycle.
- When the audit log cannot be used (refused: no AuditLog.Read.All, 403; not supported: 400 or 404; an answer of the
  wrong shape, or an entry that names no user or group; no query made since the last full read) the cycle falls back
  to what it did before: `GET /servicePrincipals/{id}/appRoleAssignedTo` read in full
  (https://learn.microsoft.com/graph/api/serviceprincipal-list-approleassignedto; 999 to a page) and compared with the
  stored rows. Either way an assignment added or removed in Entra reaches Salesforce in the next cycle, within one
  interval, and a read that fails is an error of the cycle, never "not assigned". The cycle row says which was used.
- Membership of the assigned groups comes from one groups/delta link (`$select=members`), taken with
  `$deltatoken=latest` just before each full read so that nothing between the two is missed (a change seen twice is
  applied twice to the same result). It covers the tenant's groups, so a group assigned later is followed too;
  changes in groups that reach nobody through the application are skipped. A group assigned has its members (nested
  groups expanded) read when its assignment is found.
- A full read (snapshot.refresh) remains the reconciliation: at least every RECONCILE_AFTER, and whenever what
  changed cannot be applied exactly: a change inside a nested group or in an assigned group that contains groups (a
  user may stay a member through another path), a group deleted, the app roles changed, or the delta link expired
  (410).

`follow(application, reader)` returns the users whose assignments changed (their roles are then in the snapshot),
or says that it made a full read instead (the caller then compares everyone). The snapshot changes before the users
are provisioned, so they stay pending on it until the cycle calls `provisioned(application)`: a cycle that fails
in between leaves them to the next one (after a full read, the next cycle reads in full again).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from connections.clients.errors import (
    AuthenticationError,
    BadRequest,
    DeltaExpired,
    NotFound,
    RemoteError,
    StopError,
)
from connections.clients.graph import BATCH_LIMIT, PAGE_SIZE
from connections.clients.shapes import UnexpectedAnswer
from mappings.directory.assignments import DETAILS_SELECT, AssignmentReader, AssignmentRow
from mappings.directory.models import (
    AssignmentSnapshot,
    PrincipalType,
    SnapshotAssignment,
    SnapshotGrant,
    SnapshotSource,
)
from mappings.directory.snapshot import StoredAssignments, apply, refresh, snapshot_of

RECONCILE_AFTER = timedelta(hours=24)
AUDIT_OVERLAP = timedelta(hours=1)  # how far back each audit log query reaches before the end of the last one
EVERYONE = "*"  # pending_users: the whole last full read
GROUP = "#microsoft.graph.group"
# The audit log's activities of an assignment added or removed, lower-cased (Entra's casing has varied), and the type
# of principal each names beside the service principal.
ASSIGNMENT_ACTIVITIES = {
    "add app role assignment grant to user": PrincipalType.USER,
    "remove app role assignment from user": PrincipalType.USER,
    "add app role assignment to group": PrincipalType.GROUP,
    "remove app role assignment from group": PrincipalType.GROUP,
}


@dataclass
class Followed:
    """What following the changes found: `full` when a full read was made instead (`roles_by_user` is then the
    whole map, unless the read was `stored` and the caller asked for the stored rows instead), else the users whose
    assignments changed. `mechanism` says how the assignments were read."""

    full: bool
    affected: set[str] = field(default_factory=set)
    roles_by_user: dict[str, tuple[str, ...]] | None = None
    stored: bool = False  # a full read that was stored as the snapshot
    reason: str = ""
    incomplete: list[str] = field(default_factory=list)  # a full read that could not read everything: why
    mechanism: str = ""
    unnamed: int = 0  # users stored without UPN and mail, for the caller's read of every user (snapshot.PeopleNames)


class NeedsFullRead(Exception):
    """What changed cannot be applied to the snapshot exactly."""


class AuditLogUnusable(Exception):
    """The audit log cannot say whose assignments changed: appRoleAssignedTo is compared in full instead."""


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
def full_read(
    application, reader: AssignmentReader, reason: str, *, named_later: bool = False, roles_if_stored: bool = True
) -> Followed:
    """The reconciliation: a groups/delta link from now on, then everything read and stored. `named_later`: the
    caller reads every user of the tenant next and names the new ones; `roles_if_stored`: see snapshot.refresh."""
    snapshot_of(application)
    began = timezone.now()
    link = reader.graph.latest_group_delta_link()
    refreshed = refresh(
        application, reader, source=SnapshotSource.CYCLE, named_later=named_later, roles_if_stored=roles_if_stored
    )
    groups = list(
        SnapshotAssignment.objects.filter(application=application, principal_type=PrincipalType.GROUP)
        .values_list("principal_id", flat=True)
        .distinct()
    )
    nested = reader.graph.nested_groups(groups) if groups else {}
    AssignmentSnapshot.objects.filter(application=application).update(
        group_delta_link=link, nested_groups=nested, pending_users=[EVERYONE], audit_since=began
    )
    return Followed(
        full=True,
        roles_by_user=refreshed.roles_by_user,
        stored=refreshed.stored,
        reason=reason,
        incomplete=refreshed.incomplete,
        mechanism=f"read in full ({reason})",
        unnamed=refreshed.unnamed,
    )


def provisioned(application) -> None:
    """A cycle provisioned what the snapshot's changes concern (called when it completes): nothing is pending."""
    AssignmentSnapshot.objects.filter(application=application).update(pending_users=[])


@_noting_errors
def follow(
    application,
    reader: AssignmentReader,
    *,
    named_later: bool = False,
    in_full: str = "",
    roles_if_stored: bool = True,
) -> Followed:
    """Bring the snapshot up to date with what changed in Entra since the last cycle (or read it in full).

    A full cycle follows the changes too when it can (it reads every user anyway, and asks the snapshot for their
    roles): the reconciliation stays every RECONCILE_AFTER, whatever kind of cycle comes. `named_later` and
    `roles_if_stored` are passed to a full read (see full_read); `in_full`, when given, is why the caller wants a full
    read whatever the snapshot."""
    snapshot = snapshot_of(application)

    def read_in_full(reason: str) -> Followed:
        return full_read(application, reader, reason, named_later=named_later, roles_if_stored=roles_if_stored)

    if in_full:
        return read_in_full(in_full)
    if snapshot.refreshed_at is None or not snapshot.group_delta_link:
        return read_in_full("no full read to follow from")
    if timezone.now() - snapshot.refreshed_at >= RECONCILE_AFTER:
        return read_in_full("the periodic full read")
    if EVERYONE in (snapshot.pending_users or []):
        return read_in_full("the cycle after the last full read did not complete")
    try:
        return _follow(application, reader, snapshot)
    except NeedsFullRead as exc:
        return read_in_full(str(exc))
    except DeltaExpired:
        return read_in_full("the group delta link expired")


def _graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def audited_principals(reader: AssignmentReader, since: datetime) -> tuple[dict[str, str], int]:
    """The users and groups whose assignments of this application the audit log shows added or removed since
    `since` (object id -> User or Group), and how many entries it listed. Raises AuditLogUnusable when the log cannot
    be read or is not what Graph documents; a credential failure still ends the cycle."""
    sp_id = reader.graph.connection.service_principal_id.lower()
    principals: dict[str, str] = {}
    entries = 0
    try:
        for page in reader.graph.iter_directory_audits(_graph_time(since)):
            for entry in page:
                entries += 1
                activity = entry.get("activityDisplayName")
                if not isinstance(activity, str):
                    raise AuditLogUnusable("the audit log listed an entry without its activityDisplayName")
                kind = ASSIGNMENT_ACTIVITIES.get(" ".join(activity.split()).lower())
                if kind is None:
                    continue  # another activity concerning the application (consent, properties, ...)
                targets = entry.get("targetResources")
                named = [
                    target["id"]
                    for target in (targets if isinstance(targets, list) else [])
                    if isinstance(target, dict)
                    and isinstance(target.get("id"), str)
                    and target["id"]
                    and target["id"].lower() != sp_id
                    and str(target.get("type") or target.get("Type") or "").lower() == kind.lower()
                ]
                if not named:
                    raise AuditLogUnusable(f"the audit log listed '{activity}' naming no {kind.lower()}")
                principals.update((principal_id, kind) for principal_id in named)
    except (AuthenticationError, DeltaExpired):
        raise
    except StopError as exc:
        if exc.code == "FOREIGN_LINK":
            raise
        raise AuditLogUnusable(f"reading the audit log was refused: {exc.message}") from None
    except (BadRequest, NotFound) as exc:
        raise AuditLogUnusable(f"the audit log query is not supported: {exc.message}") from None
    except UnexpectedAnswer as exc:
        raise AuditLogUnusable(f"the audit log answered in the wrong shape: {exc.message}") from None
    except RemoteError as exc:
        raise AuditLogUnusable(f"the audit log could not be read: {exc.message}") from None
    return principals, entries


def _read_changes(
    application, reader: AssignmentReader, snapshot: AssignmentSnapshot
) -> tuple[dict[str, AssignmentRow], dict[str, str], set[str] | None, str]:
    """The assignments to compare and their stored rows (assignment id -> principal type), the principals they
    cover (None: all), and how they were read: through the audit log, else appRoleAssignedTo in full."""
    try:
        if snapshot.audit_since is None:
            raise AuditLogUnusable("no audit log query since the last full read")
        principals, entries = audited_principals(reader, snapshot.audit_since - AUDIT_OVERLAP)
        if math.ceil(len(principals) / BATCH_LIMIT) > max(1, math.ceil((snapshot.assignments or 0) / PAGE_SIZE)):
            raise AuditLogUnusable(
                f"{len(principals)} users and groups changed, more than appRoleAssignedTo costs to read in full"
            )
        current, covered = _principal_rows(reader, principals)
    except AuditLogUnusable as exc:
        current = {row.id: row for row in reader.assignments()}
        stored = dict(
            SnapshotAssignment.objects.filter(application=application).values_list("assignment_id", "principal_type")
        )
        return current, stored, None, f"appRoleAssignedTo compared in full: {exc}"
    stored = dict(
        SnapshotAssignment.objects.filter(application=application, principal_id__in=sorted(covered)).values_list(
            "assignment_id", "principal_type"
        )
    )
    return current, stored, covered, f"audit log: {entries} entries, {len(principals)} users or groups read"


def _principal_rows(reader: AssignmentReader, principals: Mapping[str, str]) -> tuple[dict[str, AssignmentRow], set]:
    """The current assignments of these users and groups to the application, and those of them that exist. A refusal
    (the users' and groups' appRoleAssignments need Directory.Read.All) makes the audit log unusable; any other
    failure is an error of the cycle."""
    book = reader.book()
    current: dict[str, AssignmentRow] = {}
    covered: set[str] = set()
    try:
        for principal_id, assignments in reader.graph.principals_app_role_assignments(principals):
            if assignments is None:
                continue  # deleted (users/delta and groups/delta say so): its stored rows stay until the full read
            covered.add(principal_id)
            for assignment in assignments:
                row = book.row(assignment)
                current[row.id] = row
    except RemoteError as exc:
        if isinstance(exc, StopError) or exc.code not in ("Authorization_RequestDenied", "Graph403"):
            raise
        raise AuditLogUnusable(f"reading users' and groups' assignments was refused: {exc.message}") from None
    return current, covered


def _follow(application, reader: AssignmentReader, snapshot: AssignmentSnapshot) -> Followed:
    book = reader.book()
    if book.roles != (snapshot.app_roles or []):
        raise NeedsFullRead("the application's app roles changed")
    checked_at = timezone.now()
    current, stored, covered, mechanism = _read_changes(application, reader, snapshot)
    added = [row for assignment_id, row in current.items() if assignment_id not in stored]
    removed = [assignment_id for assignment_id in stored if assignment_id not in current]
    if covered is None:
        assigned_groups = {row.principal_id for row in current.values() if row.principal_type == PrincipalType.GROUP}
    else:
        assigned_groups = set(
            SnapshotAssignment.objects.filter(application=application, principal_type=PrincipalType.GROUP)
            .exclude(principal_id__in=sorted(covered))
            .values_list("principal_id", flat=True)
        ) | {row.principal_id for row in current.values() if row.principal_type == PrincipalType.GROUP}
    new_groups = [row for row in added if row.principal_type == PrincipalType.GROUP and row.principal_id]
    nested = dict(snapshot.nested_groups or {})
    if new_groups:
        nested.update(reader.graph.nested_groups(sorted({row.principal_id for row in new_groups})))
        snapshot.nested_groups = nested
    joined, left = _membership(reader, snapshot, assigned_groups)
    pending = set(snapshot.pending_users or [])
    if not (added or removed or joined or left):
        _save_link(application, reader, audit_since=checked_at)
        return Followed(full=False, affected=pending, mechanism=mechanism)
    direct = [row for row in added if row.principal_type == PrincipalType.USER and row.principal_id]
    people = {user["id"]: user for user in reader.users([row.principal_id for row in direct], DETAILS_SELECT)}
    members = _members(reader, new_groups)
    joined_users = _people(reader, joined)
    affected: set[str] = {row.principal_id for row in direct}
    affected.update(uid for ids in left.values() for uid in ids)
    affected.update(uid for users in joined_users.values() for uid in (u["id"] for u in users))
    affected.update(uid for users in members.values() for uid in (u["id"] for u in users))
    affected.update(
        SnapshotGrant.objects.filter(application=application, assignment_id__in=removed).values_list(
            "user_id", flat=True
        )
    )
    stored_ok = apply(
        application,
        book,
        added=[
            *(
                (row, [people.get(row.principal_id) or {"id": row.principal_id, "displayName": row.principal_name}])
                for row in direct
            ),
            *((row, members[row.id]) for row in new_groups),
        ],  # fmt: skip
        removed=removed,
        joined=joined_users,
        left=left,
    )
    if not stored_ok:
        raise NeedsFullRead("the snapshot was never read in full")
    affected |= pending
    still_assigned = set(
        SnapshotAssignment.objects.filter(application=application, principal_type=PrincipalType.GROUP).values_list(
            "principal_id", flat=True
        )
    )
    AssignmentSnapshot.objects.filter(application=application).update(
        pending_users=sorted(affected), nested_groups={g: n for g, n in nested.items() if g in still_assigned}
    )
    _save_link(application, reader, audit_since=checked_at)
    return Followed(full=False, affected=affected, mechanism=mechanism)


def _members(reader: AssignmentReader, rows: list[AssignmentRow]) -> dict[str, list[dict]]:
    """The users each newly assigned group reaches (nested groups expanded), by assignment id. A group whose members
    cannot be read is read again with everything, in full."""
    if not rows:
        return {}
    failed: dict[str, RemoteError] = {}
    members: dict[str, list[dict]] = {row.id: [] for row in rows}
    for grant in reader.grants(rows, DETAILS_SELECT, failed):
        members[grant.assignment.id].append(grant.user)
    if failed:
        raise NeedsFullRead("the members of a group assigned could not be read")
    return members


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


def _save_link(application, reader: AssignmentReader, *, audit_since: datetime) -> None:
    """What the next cycle follows from: the groups/delta link this one ended with, and the time before its
    assignments were read (the next audit log query reaches back from there)."""
    changes: dict = {"audit_since": audit_since}
    link = getattr(reader.graph, "last_group_delta_link", None)
    if link:
        changes["group_delta_link"] = link
    AssignmentSnapshot.objects.filter(application=application).update(**changes)


class StoredRoles:
    """The assigned users' role values as the engine asks for them (`user_id in roles`, `roles.get(user_id)`), read
    from the snapshot a page at a time (`load(ids)`) rather than all at once: an incremental cycle touches few.
    `forgetful`: each load forgets the users of the pages before (a full cycle asks for every user once), so memory
    stays that of a page whatever the tenant."""

    def __init__(self, application, *, forgetful: bool = False) -> None:
        self.stored = StoredAssignments(application)
        self.known: dict[str, tuple[str, ...] | None] = {}
        self.forgetful = forgetful

    def load(self, user_ids, read: dict[str, tuple[str, ...] | None] | None = None) -> None:
        """Keep the roles of `user_ids` (`read`: those read_ahead() gave for them, read from the snapshot already)."""
        if self.forgetful:
            self.known.clear()
        if read:
            self.known.update(read)
        self._read(user_ids)

    def read_ahead(self, user_ids) -> dict[str, tuple[str, ...] | None]:
        """What load(user_ids) would read, read now and not kept (a forgetful reader's next page, from another
        thread: it touches nothing load() and get() change)."""
        found: dict[str, tuple[str, ...] | None] = {}
        wanted = list(dict.fromkeys(user_ids))
        for start in range(0, len(wanted), 2000):
            chunk = wanted[start : start + 2000]
            roles = self.stored.roles_for(chunk)
            found.update((uid, roles.get(uid)) for uid in chunk)
        return found

    def _read(self, user_ids) -> None:
        wanted = [uid for uid in user_ids if uid not in self.known]
        for start in range(0, len(wanted), 2000):
            chunk = wanted[start : start + 2000]
            found = self.stored.roles_for(chunk)
            self.known.update((uid, found.get(uid)) for uid in chunk)

    def get(self, user_id: str, default=None):
        if user_id not in self.known:
            self._read([user_id])
        roles = self.known[user_id]
        return default if roles is None else roles

    def __contains__(self, user_id: object) -> bool:
        return isinstance(user_id, str) and self.get(user_id) is not None
