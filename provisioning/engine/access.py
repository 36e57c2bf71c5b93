"""Access: reconcile each user's Salesforce access beyond the profile with their app roles, every cycle.

Two calls in the pipeline (pipeline.process):
- `overlay()` before planning: the Salesforce Role (UserRoleId) and the feature licences (UserPermissions*) are User
  fields, so they join the user's own write; one the console set and the roles no longer give is cleared.
- `reconcile()` after the export: permission sets and groups, permission set licences, public groups and queues are
  records of their own (PermissionSetAssignment, PermissionSetLicenseAssign, GroupMember). What is missing is
  granted, what the console granted and the roles no longer give is revoked, in one ordered batch a page (sObject
  Collections inside Composite): revokes of permission sets and memberships, then licences, permission sets and
  memberships granted, then licences revoked, so that a licence is always there before the permission set needing it.
  A page's batch goes out in lanes (`_lanes`) a few Composite calls at a time: a user's permission set writes stay in
  one lane and in that order, memberships go in a lane of their own.

Ownership: every grant the console makes is an AccessGrant row (provisioning.models). Only those are revoked, except
for items whose "Also remove access granted outside this console" is ticked. Grants found in Salesforce that the
console did not make are remembered as not owned.

Reading current grants: a user created in this page has none; otherwise the ledger is believed, unless the user was
never seen or an item they have or should have changed in Salesforce since the last cycle. Changes are found at the
start of each cycle with one aggregate query per kind of record (count and latest SystemModstamp per item) compared
with the figures saved at the end of the previous cycle; only the users concerned are then read, with one SOQL per
kind of record for a page (inside one Composite call). An unchanged cycle thus reads three aggregate rows sets, not
every grant.

Fail safe: a user whose roles, evaluation or export failed is not reconciled at all (doubt never revokes); a failed
grant or revoke fails that grant alone: logged, the others stand, and the next cycle tries what is still missing.

Its parts: grants.py (the ledger), drift.py (what changed in Salesforce), leavers.py (freezing, refused
deactivations); this module decides and writes the grants.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import cached_property

from connections.clients.errors import RemoteError, TransientError
from connections.clients.salesforce import (
    COLLECTION_SIZE,
    COLLECTIONS_PER_COMPOSITE,
    IN_CLAUSE_SIZE,
    AccessOperation,
    RecordResult,
    WriteInterrupted,
    soql_quote,
)
from mappings.access.effective import FLAG, AccessDefinition, EffectiveAccess, Item, Piece
from mappings.access.models import FEATURE_FLAG_NAMES, AccessKind, FreezeLeavers
from provisioning.engine.drift import Drift
from provisioning.engine.grants import FROZEN, RECORDS, Ledger
from provisioning.engine.items import NOT_WRITTEN, AccessChange, ItemError, PageStopped, PlanKind, WorkItem
from provisioning.engine.leavers import Leavers
from provisioning.models import AccessGrant, ProvisioningCycle, ProvisioningJob

ROLE_FIELD = "UserRoleId"
PROFILE_FIELD = "ProfileName"
# The order of one page's writes (see the module docstring): (action, kinds)
ORDER = (
    ("revoke", (AccessKind.PERMISSION_SET, AccessKind.PERMISSION_SET_GROUP, AccessKind.GROUP, AccessKind.QUEUE)),
    ("grant", (AccessKind.LICENCE,)),
    ("grant", (AccessKind.PERMISSION_SET, AccessKind.PERMISSION_SET_GROUP)),
    ("grant", (AccessKind.GROUP, AccessKind.QUEUE)),
    ("revoke", (AccessKind.LICENCE,)),
)
# One lane of permission set writes (see _lanes) fills one Composite call: 5 collections of 200 records.
LANE_SIZE = COLLECTION_SIZE * COLLECTIONS_PER_COMPOSITE
ALREADY_THERE = "DUPLICATE_VALUE"  # a grant of something the user already has
ALREADY_GONE = "ENTITY_IS_DELETED"  # a revoke of a record no longer there
RECOMMENDATIONS = {
    "FIELD_INTEGRITY_EXCEPTION": "Salesforce refused the assignment: if the permission set needs a permission set "
    "licence, add that licence to the app role (or assign it in Salesforce); a profile-owned permission set cannot "
    "be assigned.",
    "LICENSE_LIMIT_EXCEEDED": "No seat of this permission set licence is left: free seats (remove the licence from "
    "users who no longer need it) or buy more. The grant is retried in later cycles.",
    "INVALID_CROSS_REFERENCE_KEY": "The item no longer exists in Salesforce: press Refresh from Salesforce on the "
    "Salesforce access page and choose another item for the app role.",
    "INACTIVE_OWNER_OR_USER": "The Salesforce user is inactive: access is granted once the user is active again.",
    "SalesforceAccessItemDeleted": "Refresh from Salesforce on the Salesforce access page showed this item deleted in "
    "the org: choose another item for the app role, or remove it. The user's other access was provisioned.",
}


def _not_written(stopped: RemoteError) -> RecordResult:
    """The result of a write the cycle stopped before making (the error's code says why)."""
    return RecordResult(False, None, stopped.code, NOT_WRITTEN)


class AccessStep:
    """The access step of one cycle: the definition read once, the drift found at the start, the ledger per page."""

    def __init__(
        self,
        definition: AccessDefinition,
        client,
        job: ProvisioningJob,
        cycle: ProvisioningCycle,
    ) -> None:
        self.definition = definition
        self.client = client
        self.job = job
        self.cycle = cycle
        self.managed: dict[str, Item] = {item.id: item for item in definition.managed_items()}
        settings = definition.settings
        self.revoke_leavers = settings.revoke_on_deactivation if settings is not None else True
        self.freeze_leavers = settings.freeze_leavers if settings is not None else FreezeLeavers.NEVER
        self.profile_by_precedence = settings is not None and settings.profile_by_precedence
        self.ledger = Ledger(job, cycle)
        self.drift = Drift(client, job, self.managed, dry_run=cycle.dry_run)
        self.leavers = Leavers(client, self.ledger, self.freeze_leavers)
        self._wanted_by_access: dict[int, tuple[EffectiveAccess, list[Piece], dict[tuple[str, str], tuple]]] = {}

    @property
    def drifted(self) -> set[str]:
        return self.drift.drifted

    @classmethod
    def for_cycle(cls, application, client, job, cycle) -> AccessStep:
        """The step of a cycle: it reconciles access when some app role gives any or the console granted some, and
        handles leavers (freeze, a refused deactivation) in any case."""
        return cls(AccessDefinition.for_application(application), client, job, cycle)

    @property
    def active(self) -> bool:
        """Whether there is access to reconcile (else only leavers are looked after)."""
        return self.definition.configured or bool(self.managed) or self._granted_before

    @cached_property
    def _granted_before(self) -> bool:
        return AccessGrant.objects.filter(job=self.job).exclude(kind=FROZEN[0]).exists()

    @property
    def dry_run(self) -> bool:
        return self.cycle.dry_run

    def target_fields(self) -> list[str]:
        """User fields the matcher reads so that a matched user's Role and feature licences are known."""
        return [ROLE_FIELD, *sorted(FEATURE_FLAG_NAMES)]

    # -- per page -----------------------------------------------------------------------------------
    def overlay(self, items: Sequence[WorkItem]) -> None:
        """Put the Salesforce Role and the feature licences of each user in scope into their desired values."""
        self.ledger.load(items)
        if not self.active and not self.profile_by_precedence:
            return
        for item in items:
            if item.error or not item.in_scope or item.desired is None or item.user is None:
                continue
            access = self.definition.effective(item.user.get("appRoleAssignments") or [])
            if self.profile_by_precedence and access.profile is not None and PROFILE_FIELD in item.desired:
                item.desired[PROFILE_FIELD] = access.profile.name
            if not self.active:
                continue
            item.access = access
            held = self.ledger.held(item.source_id)
            role = access.user_role
            if role is not None and role.item is not None and role.item.missing:
                item.access_changes.append(self._deleted(role.kind, role.id, role.name, role.roles))
            elif role is not None:
                item.desired[ROLE_FIELD] = role.id
            elif any(kind == AccessKind.ROLE for kind, _ in held):
                item.desired[ROLE_FIELD] = None  # the console set it; no role of the user gives one any more
            flags = access.flag_names()
            for name in flags:
                item.desired[name] = True
            for kind, name in held:
                if kind == FLAG and name not in flags:
                    item.desired[name] = False

    def reconcile(self, items: Sequence[WorkItem]) -> None:
        """Grant what is missing and revoke what should go, for the page's users, in one ordered batch.

        The Role and feature licences written with the users' own writes are remembered first, so that a page cut
        short after this point (PageStopped, or a read refused for the org's request limit) is recorded with them."""
        if self.active:
            self.keep_user_fields(items)
        try:
            self.leavers.unfreeze_returning(items)
        except PageStopped:
            for item in items:
                self._settle(item)  # a user left frozen fails, is escrowed and is unfrozen in a later cycle
            raise
        if not self.active:
            return
        users = [item for item in items if self._reconcilable(item)]
        leavers = [item for item in items if self._leaver(item)]
        current = self._current(users)
        plans: list[tuple[WorkItem, AccessChange, AccessOperation]] = []
        for item in users:
            plans.extend(self._plan_user(item, current.get(item.target_id)))
        for item in leavers:
            plans.extend(self._plan_leaver(item))
        stopped = self._send(plans) if plans else None
        for item in (*users, *leavers):
            self._settle(item)
        if stopped is not None:
            raise PageStopped(stopped)

    # -- deciding -----------------------------------------------------------------------------------
    def _reconcilable(self, item: WorkItem) -> bool:
        return (
            item.error is None
            and item.access is not None
            and item.in_scope
            and bool(item.target_id)
            and item.plan is not None
            and item.plan.kind in (PlanKind.CREATE, PlanKind.UPDATE, PlanKind.ENABLE, PlanKind.UNCHANGED)
        )

    def _leaver(self, item: WorkItem) -> bool:
        """A user the export just deactivated or froze (a certain decision of the engine), or one deactivated already
        who still holds grants of this console (a revoke refused, or not written when a cycle stopped part way): their
        access goes too."""
        frozen_instead = self.freeze_leavers == FreezeLeavers.INSTEAD and self.ledger.frozen(item.source_id)
        deactivated = (
            item.plan is not None
            and item.plan.kind == PlanKind.UNCHANGED
            and item.target is not None
            and not item.target.active
        )
        return (
            self.revoke_leavers
            and item.error is None
            and item.plan is not None
            and (item.plan.kind == PlanKind.DISABLE or frozen_instead or deactivated)
            and not item.in_scope
            and bool(item.target_id)
            and any(kind in RECORDS for kind, _ in self.ledger.held(item.source_id))
        )

    def _needs_reading(self, item: WorkItem) -> bool:
        if item.plan.kind == PlanKind.CREATE:
            return False  # created a moment ago: nothing granted yet
        held = self.ledger.held(item.source_id)
        wanted = item.access.item_ids()
        granted_held = {item_id for kind, item_id in held if kind in RECORDS}
        outside_removal = {i for i, it in self.managed.items() if it.remove_unmanaged}
        if not granted_held and (wanted or outside_removal):
            return True  # never seen: what does the user hold already?
        return bool((granted_held | wanted | outside_removal) & self.drifted)

    def _current(self, users: Sequence[WorkItem]) -> dict[str, dict[tuple[str, str], tuple[str, bool]]]:
        """Salesforce user id -> (kind, item id) -> (record id, owned), read for the users that need it."""
        to_read = [item.target_id for item in users if self._needs_reading(item)]
        observed: dict[str, dict[tuple[str, str], tuple[str, bool]]] = {uid: {} for uid in to_read}
        if to_read and self.managed:
            for sobject, field, user_field, rows in self._read(to_read):
                for row in rows:
                    uid = row.get(user_field)
                    item_id = row.get(field)
                    item = self.managed.get(item_id or "")
                    if uid in observed and item is not None and RECORDS[item.kind][0] == sobject:
                        observed[uid][(item.kind, item_id)] = (row.get("Id") or "", False)
        current: dict[str, dict[tuple[str, str], tuple[str, bool]]] = {}
        for item in users:
            held = self.ledger.held(item.source_id)
            if item.target_id in observed:
                seen = observed[item.target_id]
                for key, row in list(held.items()):
                    if key[0] in RECORDS and key in seen:
                        seen[key] = (seen[key][0], row.owned)  # still there: owned as before
                    elif key[0] in RECORDS:
                        self.ledger.forget(item, key)  # gone from Salesforce: granted again below if still wanted
                for key, (record_id, _owned) in seen.items():
                    if key not in held:
                        self.ledger.remember(
                            item, key[0], key[1], self.managed[key[1]].display_name, record_id, owned=False
                        )
                current[item.target_id] = seen
            elif item.plan.kind == PlanKind.CREATE:
                current[item.target_id] = {}
            else:
                current[item.target_id] = {k: (r.record_id, r.owned) for k, r in held.items() if k[0] in RECORDS}
        return current

    def _read(self, user_ids: Sequence[str]) -> Iterable[tuple[str, str, str, list[dict]]]:
        """The managed items' assignments of these users: one SOQL per kind of record and 200 users."""
        queries = []
        fields_of: dict[str, set[str]] = defaultdict(set)
        ids_of: dict[str, list[str]] = defaultdict(list)
        for item in self.managed.values():
            if item.kind in RECORDS:
                sobject, field, _ = RECORDS[item.kind]
                fields_of[sobject].add(field)
                ids_of[sobject].append(item.id)
        for sobject in sorted(fields_of):
            fields = sorted(fields_of[sobject])
            user_field = RECORDS[AccessKind.GROUP][2] if sobject == "GroupMember" else "AssigneeId"
            items = ", ".join(soql_quote(i) for i in sorted(ids_of[sobject]))
            where_items = " OR ".join(f"{f} IN ({items})" for f in fields)
            for start in range(0, len(user_ids), IN_CLAUSE_SIZE):
                chunk = ", ".join(soql_quote(u) for u in user_ids[start : start + IN_CLAUSE_SIZE])
                # Values are quoted by soql_quote; object and field names come from RECORDS.
                soql = (
                    f"SELECT Id, {user_field}, {', '.join(fields)} FROM {sobject} "  # noqa: S608
                    f"WHERE {user_field} IN ({chunk}) AND ({where_items})"
                )
                queries.append((sobject, fields, user_field, soql))
        results = self.client.query_many([q[3] for q in queries])
        for (sobject, fields, user_field, _), rows in zip(queries, results, strict=True):
            for field in fields:
                yield sobject, field, user_field, [r for r in rows if r.get(field)]

    def _wanted(self, access: EffectiveAccess) -> tuple[list[Piece], dict[tuple[str, str], tuple]]:
        """The pieces deleted in the org, and (kind, item id) -> (piece, sObject, item field, user field, kind label)
        of the others, for users with this access: made once per set of app roles (EffectiveAccess is shared by the
        users who have the same roles, and never changes)."""
        known = self._wanted_by_access.get(id(access))
        if known is not None and known[0] is access:
            return known[1], known[2]
        missing: list[Piece] = []
        wanted: dict[tuple[str, str], tuple] = {}
        for piece in access.items:
            if piece.item is not None and piece.item.missing:
                missing.append(piece)
                continue
            sobject, field, user_field = RECORDS[piece.kind]
            wanted[(piece.kind, piece.id)] = (piece, sobject, field, user_field, AccessKind(piece.kind).label)
        self._wanted_by_access[id(access)] = (access, missing, wanted)  # the access kept: its id stays its own
        return missing, wanted

    def _plan_user(self, item: WorkItem, current) -> list[tuple[WorkItem, AccessChange, AccessOperation]]:
        plans = []
        missing, wanted = self._wanted(item.access)
        for piece in missing:
            item.access_changes.append(self._deleted(piece.kind, piece.id, piece.name, piece.roles))
        target_id = item.target_id
        for key, (piece, sobject, field, user_field, label) in wanted.items():
            if key in current:
                continue
            if sobject == "GroupMember":
                values = {"GroupId": piece.id, "UserOrGroupId": target_id}
            else:
                values = {user_field: target_id, field: piece.id}
            change = AccessChange("grant", piece.kind, piece.id, piece.name, label, piece.roles)
            plans.append((item, change, AccessOperation(sobject, values)))
        for key, (record_id, owned) in current.items():
            if key in wanted or not record_id:
                continue
            managed = self.managed.get(key[1])
            if not owned and not (managed is not None and managed.remove_unmanaged):
                continue  # granted outside this console: never ours to revoke
            name = self._name(item, key)
            change = AccessChange("revoke", key[0], key[1], name, AccessKind(key[0]).label, outside=not owned)
            change.record_id = record_id
            plans.append((item, change, AccessOperation(RECORDS[key[0]][0], record_id=record_id)))
        return plans

    def _plan_leaver(self, item: WorkItem) -> list[tuple[WorkItem, AccessChange, AccessOperation]]:
        plans = []
        for key, row in self.ledger.held(item.source_id).items():
            if key[0] in RECORDS and row.owned and row.record_id:
                change = AccessChange("revoke", key[0], key[1], row.item_name or key[1], AccessKind(key[0]).label)
                change.record_id = row.record_id
                plans.append((item, change, AccessOperation(RECORDS[key[0]][0], record_id=row.record_id)))
        return plans

    def _name(self, item: WorkItem, key: tuple[str, str]) -> str:
        row = self.ledger.held(item.source_id).get(key)
        managed = self.managed.get(key[1]) or self.definition.items.get(key[1])
        return (row.item_name if row else "") or (managed.display_name if managed else key[1])

    def _deleted(self, kind: str, item_id: str, name: str, roles: tuple[str, ...]) -> AccessChange:
        label = AccessKind(kind).label
        return AccessChange(
            "grant",
            kind,
            item_id,
            name,
            label,
            roles,
            ok=False,
            code="SalesforceAccessItemDeleted",
            message=f"{label} '{name}' was deleted in Salesforce (app role {', '.join(roles)}); it was not granted.",
        )

    # -- writing ------------------------------------------------------------------------------------
    def _send(self, plans: list[tuple[WorkItem, AccessChange, AccessOperation]]) -> RemoteError | None:
        """Write the page's grants and revokes and apply every result; returns the error that stopped the writes
        part way (the org's request limit, a stop-class error), else None.

        Stopped part way, what Salesforce did write is applied all the same, so that the page's record keeps it: a
        grant made but not remembered as the console's would be read back by the next cycle as granted outside this
        console, and never revoked. What was not written fails, to be written by the next cycle."""
        ordered = []
        for action, kinds in ORDER:
            ordered.extend(p for p in plans if p[1].action == action and p[1].kind in kinds)
        results: list[RecordResult] = [RecordResult(False, None, "", "")] * len(ordered)
        lanes = self._lanes(ordered)
        stopped: RemoteError | None = None
        try:
            written = self._write(ordered, lanes)
        except WriteInterrupted as interrupted:
            written, stopped = interrupted.results, interrupted.error
        for lane, lane_results in zip(lanes, written, strict=True):
            for index, result in zip(lane, lane_results, strict=True):
                results[index] = result if result is not None else _not_written(stopped)
        # Results are applied in the page's order whatever order the lanes ended in: ledger, counters and each
        # user's list of changes come out as if written one call after the other.
        for (item, change, _op), result in zip(ordered, results, strict=True):
            self._apply(item, change, result)
            item.access_changes.append(change)
        return stopped

    @staticmethod
    def _lanes(ordered: list[tuple[WorkItem, AccessChange, AccessOperation]]) -> list[list[int]]:
        """The page's writes (indices into `ordered`) split into lanes that can be written at the same time.

        Only a user's own writes depend on each other (a licence before the permission set needing it, a permission
        set revoked before its licence), so each user's permission sets, permission set groups and licences stay in
        one lane, in the page's order, and lanes of different users are independent. Group and queue memberships
        form one lane of their own, written one call after the other: Salesforce locks group membership while it
        changes and advises serial processing when parallel group maintenance meets lock errors ("Group Membership
        Locking", Designing Record Access for Enterprise Scale). Memberships depend on no permission set write, nor
        these on them."""
        if len(ordered) <= LANE_SIZE:
            return [list(range(len(ordered)))]  # one call writes it all: nothing to gain from lanes
        members: list[int] = []
        by_user: dict[str, list[int]] = {}
        for index, (item, _change, op) in enumerate(ordered):
            if op.sobject == "GroupMember":
                members.append(index)
            else:
                by_user.setdefault(item.target_id, []).append(index)
        lanes = [members] if members else []
        lane: list[int] = []
        for indices in by_user.values():
            if lane and len(lane) + len(indices) > LANE_SIZE:
                lanes.append(sorted(lane))
                lane = []
            lane.extend(indices)
        if lane:
            lanes.append(sorted(lane))  # the page's order: revokes, then grants, in as few collections as can be
        return lanes

    def _write(self, ordered, lanes: list[list[int]]) -> list[list[RecordResult]]:
        operations = [[ordered[index][2] for index in lane] for lane in lanes]
        write_lanes = getattr(self.client, "write_access_lanes", None)
        if write_lanes is not None:
            return write_lanes(operations)
        # A client without lanes (SalesforceWriter's minimum) writes the page in one ordered batch.
        try:
            flat = self.client.write_access([op for _, _, op in ordered])
        except TransientError as exc:
            flat = [RecordResult(False, None, exc.code or "TransientError", exc.message)] * len(ordered)
        except WriteInterrupted as interrupted:
            raise WriteInterrupted(
                interrupted.error, [[interrupted.results[index] for index in lane] for lane in lanes]
            ) from None
        return [[flat[index] for index in lane] for lane in lanes]

    def _apply(self, item: WorkItem, change: AccessChange, result: RecordResult) -> None:
        key = (change.kind, change.item_id)
        if change.action == "grant":
            if result.ok:
                change.record_id = result.id or ""
                self.ledger.remember(item, change.kind, change.item_id, change.name, change.record_id, owned=True)
                self.cycle.granted += 1
            elif result.code == ALREADY_THERE:
                change.outside = True  # someone granted it meanwhile: the user has it, not ours to revoke
                self.ledger.remember(item, change.kind, change.item_id, change.name, "", owned=False)
            else:
                change.ok, change.code, change.message = False, result.code, result.message
        elif result.ok or result.code == ALREADY_GONE:
            self.ledger.forget(item, key)
            self.cycle.revoked += 1
        else:
            change.ok, change.code, change.message = False, result.code, result.message

    def _settle(self, item: WorkItem) -> None:
        """A user with a failed grant or revoke fails (logged, escrowed); everything else of theirs stands."""
        failed = [c for c in item.access_changes if not c.ok]
        if not failed or item.error is not None:
            return
        first = failed[0]
        reasons = "; ".join(
            f"{c.action} {c.kind_label.lower()} '{c.name}': {c.message} [{c.code}]"
            if c.code != "SalesforceAccessItemDeleted"
            else c.message
            for c in failed
        )
        code = (
            "SalesforceAccessItemDeleted" if first.code == "SalesforceAccessItemDeleted" else "SalesforceAccessRefused"
        )
        recommendation = " ".join(
            dict.fromkeys(RECOMMENDATIONS.get(c.code, "") for c in failed if RECOMMENDATIONS.get(c.code))
        )
        item.fail(
            ItemError(
                code,
                f"Salesforce access: {reasons}",
                recommendation or "The grant is retried in the next cycle.",
                step="access",
            )
        )

    def keep_user_fields(self, items: Sequence[WorkItem]) -> None:
        """Remember the Role and feature licences set with the users' own writes that went through; sends nothing.
        Called by reconcile, and for a page cut short before it (PageStopped in the export or the freeze after it):
        the next cycle reads these users again and reconciles the rest."""
        if self.active:
            for item in items:
                if self._reconcilable(item):
                    self._record_user_fields(item)

    def _record_user_fields(self, item: WorkItem) -> None:
        """Remember the Role and feature licences this console set (or cleared) with the user's own write."""
        changes = item.plan.changes if item.plan is not None else {}
        held = self.ledger.held(item.source_id)
        if ROLE_FIELD in changes:
            for key in [k for k in held if k[0] == AccessKind.ROLE]:
                self.ledger.forget(item, key)
            value = changes[ROLE_FIELD]
            if value:
                role = item.access.user_role
                self.ledger.remember(item, AccessKind.ROLE, value, role.name if role else value, "", owned=True)
        for name in FEATURE_FLAG_NAMES & set(changes):
            if changes[name] is True:
                self.ledger.remember(item, FLAG, name, name, "", owned=True)
            elif (FLAG, name) in held:
                self.ledger.forget(item, (FLAG, name))

    # -- the ledger and the cycle's other parts ----------------------------------------------------------------
    def record(self) -> None:
        """Write the page's ledger changes (inside record_page's transaction); a dry run keeps nothing."""
        self.ledger.record()

    def before_export(self, items: Sequence[WorkItem]) -> None:
        self.leavers.before_export(items)

    def after_export(self, items: Sequence[WorkItem]) -> None:
        self.leavers.after_export(items)

    def find_drift(self) -> set[str]:
        return self.drift.find()

    def users_to_recheck(self) -> list[str]:
        return self.drift.users_to_recheck()

    def save_baseline(self, *, keep_drifted: bool = False) -> None:
        self.drift.save(keep_drifted=keep_drifted)
