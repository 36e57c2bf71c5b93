"""Access: reconcile each user's Salesforce access beyond the profile with their app roles, every cycle.

Two calls in the pipeline (pipeline.process):
- `overlay()` before planning: the Salesforce Role (UserRoleId) and the feature licences (UserPermissions*) are User
  fields, so they join the user's own write; one the console set and the roles no longer give is cleared.
- `reconcile()` after the export: permission sets and groups, permission set licences, public groups and queues are
  records of their own (PermissionSetAssignment, PermissionSetLicenseAssign, GroupMember). What is missing is
  granted, what the console granted and the roles no longer give is revoked, in one ordered batch a page (sObject
  Collections inside Composite): revokes of permission sets and memberships, then licences, permission sets and
  memberships granted, then licences revoked, so that a licence is always there before the permission set needing it.

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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import cached_property

from django.utils import timezone

from connections.clients.errors import TransientError
from connections.clients.salesforce import IN_CLAUSE_SIZE, AccessOperation, RecordResult, soql_quote
from mappings.access.effective import FLAG, AccessDefinition, EffectiveAccess, Item
from mappings.access.models import FEATURE_FLAG_NAMES, AccessKind, FreezeLeavers
from provisioning.engine.items import WARNING, AccessChange, ItemError, Plan, PlanKind, WorkItem
from provisioning.models import AccessGrant, ProvisioningCycle, ProvisioningJob

ROLE_FIELD = "UserRoleId"
PROFILE_FIELD = "ProfileName"
# kind -> (sObject, the field naming the item, the field naming the user)
RECORDS = {
    AccessKind.PERMISSION_SET: ("PermissionSetAssignment", "PermissionSetId", "AssigneeId"),
    AccessKind.PERMISSION_SET_GROUP: ("PermissionSetAssignment", "PermissionSetGroupId", "AssigneeId"),
    AccessKind.LICENCE: ("PermissionSetLicenseAssign", "PermissionSetLicenseId", "AssigneeId"),
    AccessKind.GROUP: ("GroupMember", "GroupId", "UserOrGroupId"),
    AccessKind.QUEUE: ("GroupMember", "GroupId", "UserOrGroupId"),
}
# The order of one page's writes (see the module docstring): (action, kinds)
ORDER = (
    ("revoke", (AccessKind.PERMISSION_SET, AccessKind.PERMISSION_SET_GROUP, AccessKind.GROUP, AccessKind.QUEUE)),
    ("grant", (AccessKind.LICENCE,)),
    ("grant", (AccessKind.PERMISSION_SET, AccessKind.PERMISSION_SET_GROUP)),
    ("grant", (AccessKind.GROUP, AccessKind.QUEUE)),
    ("revoke", (AccessKind.LICENCE,)),
)
FROZEN = ("frozen", "IsFrozen")  # the ledger key of a user this console froze
# Salesforce refuses to deactivate a user who is a default lead or case owner, the default workflow user, an approver,
# or selected in a custom hierarchy field (Salesforce Help, "Considerations for Deactivating Users"; knowledge
# articles 000384586 and 000384761), with FIELD_INTEGRITY_EXCEPTION on the IsActive change.
DEACTIVATION_REFUSED = frozenset({"FIELD_INTEGRITY_EXCEPTION"})
REFUSED_RECOMMENDATION = (
    "The user was frozen instead: they cannot sign in, and keep their licence. Reassign what Salesforce names (default "
    "lead or case owner, web-to-lead or default workflow user, approval processes, custom hierarchy fields) to "
    "another user; deactivation is tried again in the next cycle."
)
ITEM_FIELDS = ("PermissionSetGroupId", "PermissionSetId", "PermissionSetLicenseId", "GroupId")
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
        self.drifted: set[str] = set()
        self.ledger: dict[str, dict[tuple[str, str], AccessGrant]] = {}  # source id -> (kind, item id) -> row
        self.pending_save: list[AccessGrant] = []
        self.pending_delete: list[int] = []
        settings = definition.settings
        self.revoke_leavers = settings.revoke_on_deactivation if settings is not None else True
        self.freeze_leavers = settings.freeze_leavers if settings is not None else FreezeLeavers.NEVER
        self.profile_by_precedence = settings is not None and settings.profile_by_precedence

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

    # -- drift: what changed in Salesforce since the last cycle ------------------------------------------
    def _aggregate_queries(self) -> list[tuple[str, str]]:
        """(sObject, SOQL) counting the assignments of each managed item, with their latest change."""
        by_object: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for item in self.managed.values():
            if item.kind in RECORDS:
                sobject, field, _ = RECORDS[item.kind]
                by_object[sobject][field].append(item.id)
        queries = []
        for sobject, fields in by_object.items():
            names = sorted(fields)
            where = " OR ".join(f"{f} IN ({', '.join(soql_quote(i) for i in sorted(fields[f]))})" for f in names)
            select = ", ".join(names)
            # Ids are quoted by soql_quote; object and field names come from RECORDS.
            soql = f"SELECT {select}, COUNT(Id), MAX(SystemModstamp) FROM {sobject} WHERE {where} GROUP BY {select}"  # noqa: S608
            queries.append((sobject, soql))
        return queries

    def _figures(self) -> dict[str, list]:
        queries = self._aggregate_queries()
        if not queries:
            return {}
        figures: dict[str, list] = {}
        for (_, _soql), rows in zip(queries, self.client.query_many([q for _, q in queries]), strict=True):
            for row in rows:
                item_id = next((row.get(f) for f in ITEM_FIELDS if row.get(f)), None)
                if item_id:
                    figures[item_id] = [row.get("expr0") or 0, row.get("expr1") or ""]
        return figures

    def find_drift(self) -> set[str]:
        """Items whose assignments changed in Salesforce since the figures saved by the last cycle."""
        baseline = self.job.access_baseline or {}
        figures = self._figures()
        self.drifted = {
            item_id
            for item_id in self.managed
            if self.managed[item_id].kind in RECORDS and figures.get(item_id, [0, ""]) != baseline.get(item_id)
        }
        return self.drifted

    def users_to_recheck(self) -> list[str]:
        """Source ids of users the console granted (or saw holding) a drifted item: an incremental cycle reads them."""
        if not self.drifted:
            return []
        rows = AccessGrant.objects.filter(job=self.job, item_id__in=self.drifted).values_list("source_id", flat=True)
        return list(dict.fromkeys(rows))

    def save_baseline(self, *, keep_drifted: bool = False) -> None:
        """The figures after this cycle's own writes, for the next cycle's comparison (not in a dry run).

        `keep_drifted` (provision on demand, which reads one user): items that had changed in Salesforce keep their
        old figures, so that the next cycle still reads the users concerned."""
        if self.dry_run:
            return
        figures = self._figures()
        old = self.job.access_baseline or {}
        baseline = {
            item_id: (old.get(item_id) if keep_drifted and item_id in self.drifted else figures.get(item_id, [0, ""]))
            for item_id, item in self.managed.items()
            if item.kind in RECORDS
        }
        ProvisioningJob.objects.filter(pk=self.job.pk).update(access_baseline=baseline)
        self.job.access_baseline = baseline

    # -- per page -----------------------------------------------------------------------------------
    def load(self, items: Sequence[WorkItem]) -> None:
        """The ledger rows of the page's users."""
        self.ledger = defaultdict(dict)
        ids = [item.source_id for item in items]
        for row in AccessGrant.objects.filter(job=self.job, source_id__in=ids):
            self.ledger[row.source_id][(row.kind, row.item_id)] = row

    def overlay(self, items: Sequence[WorkItem]) -> None:
        """Put the Salesforce Role and the feature licences of each user in scope into their desired values."""
        self.load(items)
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
            held = self.ledger.get(item.source_id, {})
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

    # -- leavers: freeze, and a deactivation Salesforce refuses ---------------------------------------------
    def before_export(self, items: Sequence[WorkItem]) -> None:
        """Freeze leavers first (Freeze leavers: before or instead of deactivating); instead of deactivating, the
        deactivation is not sent."""
        if self.freeze_leavers == FreezeLeavers.NEVER:
            return
        to_freeze = []
        for item in items:
            if item.error or item.plan is None or item.plan.kind != PlanKind.DISABLE or not item.target_id:
                continue
            frozen = FROZEN in self.ledger.get(item.source_id, {})
            if not frozen:
                to_freeze.append(item)
            if self.freeze_leavers == FreezeLeavers.INSTEAD:
                reason = "Out of scope: frozen instead of deactivated (Freeze leavers)."
                item.plan = Plan(PlanKind.UNCHANGED if frozen else PlanKind.SKIP, reason=reason)
        self._freeze(to_freeze, True, "out of scope (Freeze leavers)")

    def after_export(self, items: Sequence[WorkItem]) -> None:
        """A deactivation Salesforce refused: the user is frozen instead, logged as a warning, retried next cycle."""
        refused = [
            item
            for item in items
            if item.plan is not None
            and item.plan.kind == PlanKind.DISABLE
            and item.error is not None
            and item.error.remote_code in DEACTIVATION_REFUSED
        ]
        if not refused:
            return
        self._freeze([i for i in refused if FROZEN not in self.ledger.get(i.source_id, {})], True,
                     "Salesforce refused to deactivate the user")  # fmt: skip
        for item in refused:
            reason = item.error.reason
            item.error = None
            item.fail(
                ItemError(
                    "SalesforceDeactivationRefused",
                    f"Salesforce refused to deactivate the user: {reason}",
                    REFUSED_RECOMMENDATION,
                    step="export",
                    category=WARNING,
                )
            )

    def _freeze(self, items: Sequence[WorkItem], frozen: bool, why: str) -> None:
        """Freeze (or unfreeze) users through their UserLogin rows: one query and one write a page."""
        if not items:
            return
        ids = [item.target_id for item in items]
        queries = [
            "SELECT Id, UserId FROM UserLogin WHERE UserId IN "  # noqa: S608 - ids quoted by soql_quote
            f"({', '.join(soql_quote(u) for u in ids[start : start + IN_CLAUSE_SIZE])})"
            for start in range(0, len(ids), IN_CLAUSE_SIZE)
        ]
        try:
            logins = {row.get("UserId"): row.get("Id") for rows in self.client.query_many(queries) for row in rows}
            found = [(item, logins[item.target_id]) for item in items if logins.get(item.target_id)]
            results = self.client.update_records("UserLogin", [{"Id": lid, "IsFrozen": frozen} for _, lid in found])
        except TransientError as exc:
            found, results = (
                [(item, "") for item in items],
                [RecordResult(False, None, exc.code, exc.message)] * len(items),
            )
        done = {item.source_id for item, _ in found}
        for item in items:
            if item.source_id not in done:
                found.append((item, ""))
                results.append(RecordResult(False, None, "NOT_FOUND", "The user's UserLogin row was not found."))
        action = "freeze" if frozen else "unfreeze"
        for (item, login_id), result in zip(found, results, strict=True):
            change = AccessChange(action, FROZEN[0], FROZEN[1], "Frozen", "Frozen", record_id=login_id, message=why)
            if result.ok:
                if frozen:
                    self._remember(item, FROZEN[0], FROZEN[1], "Frozen", login_id, owned=True)
                else:
                    self._forget(item, FROZEN)
            else:
                change.ok, change.code, change.message = False, result.code, result.message
            item.access_changes.append(change)

    def reconcile(self, items: Sequence[WorkItem]) -> None:
        """Grant what is missing and revoke what should go, for the page's users, in one ordered batch."""
        returning = [
            item
            for item in items
            if item.error is None
            and item.in_scope
            and item.target_id
            and FROZEN in self.ledger.get(item.source_id, {})
            and item.plan is not None
            and item.plan.kind != PlanKind.SKIP
        ]
        self._freeze(returning, False, "in scope again")
        if not self.active:
            return
        users = [item for item in items if self._reconcilable(item)]
        leavers = [item for item in items if self._leaver(item)]
        for item in users:
            self._record_user_fields(item)
        current = self._current(users)
        plans: list[tuple[WorkItem, AccessChange, AccessOperation]] = []
        for item in users:
            plans.extend(self._plan_user(item, current.get(item.target_id)))
        for item in leavers:
            plans.extend(self._plan_leaver(item))
        if plans:
            self._send(plans)
        for item in (*users, *leavers):
            self._settle(item)

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
        """A user the export just deactivated or froze (a certain decision of the engine): their access goes too."""
        frozen_instead = self.freeze_leavers == FreezeLeavers.INSTEAD and FROZEN in self.ledger.get(item.source_id, {})
        return (
            self.revoke_leavers
            and item.error is None
            and item.plan is not None
            and (item.plan.kind == PlanKind.DISABLE or frozen_instead)
            and not item.in_scope
            and bool(item.target_id)
            and any(kind in RECORDS for kind, _ in self.ledger.get(item.source_id, {}))
        )

    def _needs_reading(self, item: WorkItem) -> bool:
        if item.plan.kind == PlanKind.CREATE:
            return False  # created a moment ago: nothing granted yet
        held = self.ledger.get(item.source_id, {})
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
            held = self.ledger.get(item.source_id, {})
            if item.target_id in observed:
                seen = observed[item.target_id]
                for key, row in list(held.items()):
                    if key[0] in RECORDS and key in seen:
                        seen[key] = (seen[key][0], row.owned)  # still there: owned as before
                    elif key[0] in RECORDS:
                        self._forget(item, key)  # gone from Salesforce: granted again below if still wanted
                for key, (record_id, _owned) in seen.items():
                    if key not in held:
                        self._remember(item, key[0], key[1], self.managed[key[1]].display_name, record_id, owned=False)
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

    def _plan_user(self, item: WorkItem, current) -> list[tuple[WorkItem, AccessChange, AccessOperation]]:
        access: EffectiveAccess = item.access
        plans = []
        wanted = {}
        for piece in access.items:
            if piece.item is not None and piece.item.missing:
                item.access_changes.append(self._deleted(piece.kind, piece.id, piece.name, piece.roles))
                continue
            wanted[(piece.kind, piece.id)] = piece
        for key, piece in wanted.items():
            if key in current:
                continue
            sobject, field, user_field = RECORDS[piece.kind]
            values = {user_field: item.target_id, field: piece.id}
            if sobject == "GroupMember":
                values = {"GroupId": piece.id, "UserOrGroupId": item.target_id}
            change = AccessChange("grant", piece.kind, piece.id, piece.name, AccessKind(piece.kind).label, piece.roles)
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
        for key, row in self.ledger.get(item.source_id, {}).items():
            if key[0] in RECORDS and row.owned and row.record_id:
                change = AccessChange("revoke", key[0], key[1], row.item_name or key[1], AccessKind(key[0]).label)
                change.record_id = row.record_id
                plans.append((item, change, AccessOperation(RECORDS[key[0]][0], record_id=row.record_id)))
        return plans

    def _name(self, item: WorkItem, key: tuple[str, str]) -> str:
        row = self.ledger.get(item.source_id, {}).get(key)
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
    def _send(self, plans: list[tuple[WorkItem, AccessChange, AccessOperation]]) -> None:
        ordered = []
        for action, kinds in ORDER:
            ordered.extend(p for p in plans if p[1].action == action and p[1].kind in kinds)
        try:
            results = self.client.write_access([op for _, _, op in ordered])
        except TransientError as exc:
            results = [RecordResult(False, None, exc.code or "TransientError", exc.message)] * len(ordered)
        for (item, change, _op), result in zip(ordered, results, strict=True):
            self._apply(item, change, result)
            item.access_changes.append(change)

    def _apply(self, item: WorkItem, change: AccessChange, result: RecordResult) -> None:
        key = (change.kind, change.item_id)
        if change.action == "grant":
            if result.ok:
                change.record_id = result.id or ""
                self._remember(item, change.kind, change.item_id, change.name, change.record_id, owned=True)
                self.cycle.granted += 1
            elif result.code == ALREADY_THERE:
                change.outside = True  # someone granted it meanwhile: the user has it, not ours to revoke
                self._remember(item, change.kind, change.item_id, change.name, "", owned=False)
            else:
                change.ok, change.code, change.message = False, result.code, result.message
        elif result.ok or result.code == ALREADY_GONE:
            self._forget(item, key)
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

    def _record_user_fields(self, item: WorkItem) -> None:
        """Remember the Role and feature licences this console set (or cleared) with the user's own write."""
        changes = item.plan.changes if item.plan is not None else {}
        held = self.ledger.get(item.source_id, {})
        if ROLE_FIELD in changes:
            for key in [k for k in held if k[0] == AccessKind.ROLE]:
                self._forget(item, key)
            value = changes[ROLE_FIELD]
            if value:
                role = item.access.user_role
                self._remember(item, AccessKind.ROLE, value, role.name if role else value, "", owned=True)
        for name in FEATURE_FLAG_NAMES & set(changes):
            if changes[name] is True:
                self._remember(item, FLAG, name, name, "", owned=True)
            elif (FLAG, name) in held:
                self._forget(item, (FLAG, name))

    # -- the ledger ---------------------------------------------------------------------------------
    def _remember(self, item: WorkItem, kind: str, item_id: str, name: str, record_id: str, *, owned: bool) -> None:
        row = AccessGrant(
            job_id=self.job.pk,
            source_id=item.source_id,
            target_id=item.target_id,
            kind=kind,
            item_id=item_id,
            item_name=name[:255],
            record_id=record_id,
            owned=owned,
            granted_at=timezone.now(),
            cycle_id=self.cycle.pk,
        )
        self.ledger.setdefault(item.source_id, {})[(kind, item_id)] = row
        self.pending_save.append(row)

    def _forget(self, item: WorkItem, key: tuple[str, str]) -> None:
        row = self.ledger.get(item.source_id, {}).pop(key, None)
        if row is not None and row.pk is not None:
            self.pending_delete.append(row.pk)

    def record(self) -> None:
        """Write the page's ledger changes (inside record_page's transaction); a dry run keeps nothing."""
        saves, deletes = self.pending_save, self.pending_delete
        self.pending_save, self.pending_delete = [], []
        if self.dry_run:
            return
        if deletes:
            AccessGrant.objects.filter(pk__in=deletes).delete()
        if saves:
            latest = {(r.target_id, r.kind, r.item_id): r for r in saves}
            AccessGrant.objects.bulk_create(
                list(latest.values()),
                batch_size=500,
                update_conflicts=True,
                unique_fields=["job", "target_id", "kind", "item_id"],
                update_fields=["source_id", "item_name", "record_id", "owned", "granted_at", "cycle"],
            )
