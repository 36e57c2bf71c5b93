"""Manager: ManagerId from the user's manager in Entra (Graph `manager`), resolved to the Salesforce user this console
linked for that manager. On only when the application's access settings say so (Provision the manager).

- Before planning (`overlay`), a manager already linked joins the user's own write: no extra call.
- After the page's export (`second_pass`), users whose manager was created in the same page get ManagerId in one
  collection update.
- A manager not provisioned yet leaves the field as it is and is a warning on the user, never a failure; the user is
  remembered (an AccessGrant row of kind "manager_pending") and looked at again at the end of the cycle
  (`settle`, for managers created by a later page) and by the next cycle.

The manager comes with the user from full reads (`$expand=manager($select=id)`); users read from the delta have no
manager there and are asked for it with Graph JSON batches (20 users a call, 404 meaning "no manager").
"""

from __future__ import annotations

from collections.abc import Sequence

from connections.clients import shapes
from connections.clients.errors import RemoteError, TransientError
from connections.clients.graph import GraphClient
from connections.clients.salesforce import WriteInterrupted
from provisioning.engine.items import NOT_WRITTEN, PageStopped, Plan, PlanKind, WorkItem
from provisioning.engine.log import entry_for
from provisioning.models import AccessGrant, ProvisionedLink, ProvisioningCycle, ProvisioningJob, ProvisioningLogEntry

MANAGER_FIELD = "ManagerId"
MANAGER_EXPAND = "manager($select=id)"
PENDING = "manager_pending"  # AccessGrant kind of a user whose manager is not provisioned yet
SET = "manager"  # AccessGrant kind of a ManagerId this console set (only such a one is ever cleared)
BATCH = 20  # Graph JSON batch limit


def manager_of(user: dict | None) -> str | None:
    manager = (user or {}).get("manager")
    return manager.get("id") if isinstance(manager, dict) else None


def same_id(a: str | None, b: str | None) -> bool:
    return (a or "")[:15] == (b or "")[:15]


class ManagerStep:
    def __init__(self, client, graph: GraphClient, job: ProvisioningJob, cycle: ProvisioningCycle) -> None:
        self.client = client
        self.graph = graph
        self.job = job
        self.cycle = cycle
        self.deferred: list[tuple[WorkItem, str]] = []  # (user, manager's Entra id) for the page's second pass
        self.unresolved: dict[str, tuple[WorkItem, str]] = {}  # source id -> (user, manager's Entra id)
        self.owned: set[str] = set()  # source ids of the page whose ManagerId this console set before
        self.resolved_page: list[WorkItem] = []

    def users_to_recheck(self) -> list[str]:
        return list(AccessGrant.objects.filter(job=self.job, kind=PENDING).values_list("source_id", flat=True))

    # -- before planning ----------------------------------------------------------------------------
    def overlay(self, items: Sequence[WorkItem]) -> None:
        users = [i for i in items if i.error is None and i.in_scope and i.desired is not None and i.user is not None]
        if not users:
            return
        self._read_managers([i for i in users if "manager" not in i.user])
        # A manager that could not be read is unknown, not "none": ManagerId is left as it is this cycle.
        users = [i for i in users if "manager" in i.user]
        wanted = {i.source_id: manager_of(i.user) for i in users}
        self.owned = set(
            AccessGrant.objects.filter(job=self.job, kind=SET, source_id__in=[i.source_id for i in users]).values_list(
                "source_id", flat=True
            )
        )
        linked = dict(
            ProvisionedLink.objects.filter(job=self.job, source_id__in={m for m in wanted.values() if m})
            .exclude(target_id="")
            .values_list("source_id", "target_id")
        )
        in_page = {i.source_id for i in items}
        self.deferred = []
        for item in users:
            manager = wanted[item.source_id]
            current = item.target.values.get(MANAGER_FIELD) if item.target is not None else None
            if manager is None:
                if current and item.source_id in self.owned:
                    item.desired[MANAGER_FIELD] = None  # the console set it; Entra has no manager any more
                continue
            if manager in linked:
                item.desired[MANAGER_FIELD] = linked[manager]
            elif manager in in_page:
                self.deferred.append((item, manager))  # created by this page, perhaps: after the export
            else:
                self._pending(item, manager)

    def _read_managers(self, items: Sequence[WorkItem]) -> None:
        """Ask Graph for the managers of users read without one (delta pages); 404: no manager."""
        for start in range(0, len(items), BATCH):
            chunk = items[start : start + BATCH]
            requests = [
                {"id": str(n), "method": "GET", "url": f"/users/{item.source_id}/manager?$select=id"}
                for n, item in enumerate(chunk)
            ]
            try:
                answers = self.graph.batch(requests)
            except RemoteError:
                continue  # unknown: the user's ManagerId is left as it is this cycle
            for n, item in enumerate(chunk):
                answer = answers.get(str(n)) or {}
                if answer.get("status") == 200:
                    try:
                        manager = shapes.graph_object(answer.get("body"), f"GET /users/{item.source_id}/manager")
                    except shapes.UnexpectedAnswer:
                        continue  # unknown, as above
                    item.user["manager"] = {"id": manager["id"]}
                elif answer.get("status") == 404:
                    item.user["manager"] = None

    # -- after the export ---------------------------------------------------------------------------
    def second_pass(self, items: Sequence[WorkItem]) -> None:
        """ManagerId for users whose manager this page created or linked."""
        created = {i.source_id: i.target_id for i in items if i.target_id and i.error is None}
        updates: list[tuple[WorkItem, str]] = []
        for item, manager in self.deferred:
            if item.error is not None or not item.target_id:
                continue
            target = created.get(manager)
            if target is None:
                self._pending(item, manager)
            elif not same_id(target, item.target.values.get(MANAGER_FIELD) if item.target else None):
                updates.append((item, target))
        self.deferred = []
        stopped = self._send(updates)
        for item in items:
            if item.error is None and item.source_id not in self.unresolved:
                self._resolved(item)
        if stopped is not None:
            raise PageStopped(stopped)  # the page is recorded with the ManagerIds that were written

    def _send(self, updates: list[tuple[WorkItem, str]]) -> RemoteError | None:
        """Write the ManagerIds; returns the error that cut the write short (the org's request limit, refused
        credentials: the cycle ends once the page is recorded), if one did."""
        if not updates:
            return None
        records = [{"Id": item.target_id, MANAGER_FIELD: target} for item, target in updates]
        stopped = None
        try:
            results = self.client.update_users(records)
        except WriteInterrupted as stop:
            stopped, results = stop.error, stop.results
        except TransientError as exc:
            for item, _ in updates:
                item.warnings.append(f"ManagerId was not set ({exc.message}); it is tried again in the next cycle.")
            return None
        for (item, target), result in zip(updates, results, strict=True):
            if result is None:
                item.warnings.append(f"ManagerId {target} was not set. {NOT_WRITTEN} [{stopped.code}]")
                continue
            if not result.ok:
                item.warnings.append(f"Salesforce refused ManagerId {target}: {result.message} [{result.code}]")
                continue
            plan = item.plan or Plan(PlanKind.UPDATE)
            if plan.kind in (PlanKind.UNCHANGED, PlanKind.SKIP):
                plan = Plan(PlanKind.UPDATE, reason="The manager was provisioned.")
            plan.changes[MANAGER_FIELD] = target
            plan.old.setdefault(MANAGER_FIELD, item.target.values.get(MANAGER_FIELD) if item.target else None)
            item.plan = plan
        return stopped

    def _pending(self, item: WorkItem, manager: str) -> None:
        item.warnings.append(
            "The user's manager in Entra is not provisioned to Salesforce (yet): ManagerId is left empty and set "
            "once the manager is provisioned (at the end of this cycle or in the next one). Assign the manager to "
            "the application if they should be provisioned."
        )
        self.unresolved[item.source_id] = (item, manager)

    def _resolved(self, item: WorkItem) -> None:
        self.resolved_page.append(item)

    def record(self, items: Sequence[WorkItem]) -> None:
        """Remember who waits for their manager and which ManagerId this console set (inside record_page's
        transaction); a dry run keeps nothing."""
        resolved, self.resolved_page = self.resolved_page, []
        if self.cycle.dry_run:
            return
        page = {i.source_id for i in items}
        AccessGrant.objects.filter(job=self.job, kind=PENDING, source_id__in=[i.source_id for i in resolved]).delete()
        for source_id, (item, manager) in self.unresolved.items():
            if source_id in page and item.target_id and item.error is None:
                AccessGrant.objects.update_or_create(
                    job=self.job,
                    target_id=item.target_id,
                    kind=PENDING,
                    item_id=manager,
                    defaults={"source_id": source_id, "item_name": "manager", "cycle_id": self.cycle.pk},
                )
        for item in items:
            changes = item.plan.changes if item.plan is not None and item.error is None else {}
            if MANAGER_FIELD not in changes:
                continue
            AccessGrant.objects.filter(job=self.job, kind=SET, source_id=item.source_id).delete()
            if changes[MANAGER_FIELD]:
                AccessGrant.objects.create(
                    job_id=self.job.pk,
                    source_id=item.source_id,
                    target_id=item.target_id,
                    kind=SET,
                    item_id=changes[MANAGER_FIELD],
                    item_name="ManagerId",
                    cycle_id=self.cycle.pk,
                )

    # -- at the end of the cycle --------------------------------------------------------------------
    def settle(self) -> None:
        """Managers created by a later page of this cycle: their reports get ManagerId now, logged as updates."""
        pending = {s: (i, m) for s, (i, m) in self.unresolved.items() if i.target_id and i.error is None}
        self.unresolved = {}
        if not pending:
            return
        linked = dict(
            ProvisionedLink.objects.filter(job=self.job, source_id__in={m for _, m in pending.values()})
            .exclude(target_id="")
            .values_list("source_id", "target_id")
        )
        updates = []
        for item, manager in pending.values():
            if manager in linked:
                fresh = WorkItem(
                    source_id=item.source_id,
                    upn=item.upn,
                    display_name=item.display_name,
                    change="Update",
                    in_scope=True,
                    scope_reasons=["Manager provisioned later in the cycle: ManagerId set"],
                )
                fresh.target_id, fresh.target_name = item.target_id, item.target_name
                fresh.match_note = f"Linked to the Salesforce user {item.target_id} earlier in this cycle."
                fresh.plan = Plan(PlanKind.UPDATE, reason="The manager was provisioned later in the cycle.")
                updates.append((fresh, linked[manager]))
        self._send(updates)
        done = [item for item, _ in updates if not item.warnings]
        self.cycle.updated += len(done)
        if self.cycle.dry_run or not done:
            return
        AccessGrant.objects.filter(job=self.job, kind=PENDING, source_id__in=[i.source_id for i in done]).delete()
        ProvisioningLogEntry.objects.bulk_create([entry_for(item, self.cycle) for item in done])
        self.record(done)
