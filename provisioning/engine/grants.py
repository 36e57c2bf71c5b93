"""The ledger of Salesforce access this console granted (provisioning.models.AccessGrant), a page at a time.

What access.py, leavers.py and drift.py share: the records that grant each kind of item (RECORDS), the ledger key of
a frozen user, and the Ledger that loads a page's rows, remembers and forgets grants as the page goes, and writes
them inside record_page's transaction (nothing in a dry run). A row is "owned" when this console granted it; one seen
in Salesforce that someone else granted is remembered as not owned and is never revoked by default.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from console.bulk import insert_rows, upsert_rows
from mappings.access.models import AccessKind
from provisioning.engine.items import PlanKind, WorkItem
from provisioning.engine.sql import rows_of
from provisioning.models import AccessGrant, ProvisioningCycle, ProvisioningJob

# kind -> (sObject, the field naming the item, the field naming the user)
RECORDS = {
    AccessKind.PERMISSION_SET: ("PermissionSetAssignment", "PermissionSetId", "AssigneeId"),
    AccessKind.PERMISSION_SET_GROUP: ("PermissionSetAssignment", "PermissionSetGroupId", "AssigneeId"),
    AccessKind.LICENCE: ("PermissionSetLicenseAssign", "PermissionSetLicenseId", "AssigneeId"),
    AccessKind.GROUP: ("GroupMember", "GroupId", "UserOrGroupId"),
    AccessKind.QUEUE: ("GroupMember", "GroupId", "UserOrGroupId"),
}
FROZEN = ("frozen", "IsFrozen")  # the ledger key of a user this console froze

Key = tuple[str, str]  # (kind, item id)
COLUMNS = ("source_id", "target_id", "kind", "item_id", "item_name", "record_id", "owned")
SAVED = ("job_id", *COLUMNS, "granted_at", "cycle_id")  # the columns a page's rows are written with


@dataclass(slots=True)
class Grant:
    """One ledger row as the engine handles it (a model instance per grant costs too much at 100,000 users)."""

    source_id: str
    target_id: str
    kind: str
    item_id: str
    item_name: str
    record_id: str
    owned: bool
    pk: int | None = None
    new_user: bool = False  # of a user created in this page: no row of theirs can be stored yet


class Ledger:
    def __init__(self, job: ProvisioningJob, cycle: ProvisioningCycle) -> None:
        self.job = job
        self.cycle = cycle
        self.rows: dict[str, dict[Key, Grant]] = {}  # source id -> (kind, item id) -> row
        self.pending_save: list[Grant] = []
        self.pending_delete: list[int] = []

    def load(self, items: Sequence[WorkItem]) -> None:
        """The ledger rows of the page's users."""
        self.rows = defaultdict(dict)
        ids = [item.source_id for item in items]
        for values in rows_of(AccessGrant, "source_id", ids, job_id=self.job.pk).values_list(*COLUMNS, "pk"):
            row = Grant(*values)
            self.rows[row.source_id][(row.kind, row.item_id)] = row

    def held(self, source_id: str) -> dict[Key, Grant]:
        return self.rows.get(source_id, {})

    def frozen(self, source_id: str) -> bool:
        return FROZEN in self.held(source_id)

    def remember(self, item: WorkItem, kind: str, item_id: str, name: str, record_id: str, *, owned: bool) -> None:
        row = Grant(item.source_id, item.target_id, kind, item_id, name[:255], record_id, owned)
        row.new_user = item.plan is not None and item.plan.kind == PlanKind.CREATE
        self.rows.setdefault(item.source_id, {})[(kind, item_id)] = row
        self.pending_save.append(row)

    def forget(self, item: WorkItem, key: Key) -> None:
        row = self.rows.get(item.source_id, {}).pop(key, None)
        if row is not None and row.pk is not None:
            self.pending_delete.append(row.pk)

    def record(self) -> None:
        """Write the page's ledger changes (inside record_page's transaction); a dry run keeps nothing."""
        saves, deletes = self.pending_save, self.pending_delete
        self.pending_save, self.pending_delete = [], []
        if self.cycle.dry_run:
            return
        if deletes:
            AccessGrant.objects.filter(pk__in=deletes).delete()
        if saves:
            latest = {(r.target_id, r.kind, r.item_id): r for r in saves}
            now = timezone.now()
            self._insert([r for r in latest.values() if r.new_user], now)
            self._upsert([r for r in latest.values() if not r.new_user], now)

    def _values(self, rows: list[Grant], now: datetime) -> list[tuple]:
        job, cycle = self.job.pk, self.cycle.pk
        return [
            (job, r.source_id, r.target_id, r.kind, r.item_id, r.item_name, r.record_id, r.owned, now, cycle)
            for r in rows
        ]

    def _insert(self, rows: list[Grant], now: datetime) -> None:
        """The rows of users created in this page, inserted (COPY on PostgreSQL, console/bulk.py) without looking for
        stored rows to merge with: the Salesforce user is new, so no row of the job names it yet (a page's rows are
        written with the page, or not at all). Were one there after all, the rows are merged instead (the savepoint
        undoes the failed insert), as every other row is."""
        if not rows:
            return
        try:
            with transaction.atomic():
                insert_rows(AccessGrant, SAVED, self._values(rows, now))
        except IntegrityError:
            self._upsert(rows, now)

    def _upsert(self, rows: list[Grant], now: datetime) -> None:
        """One upsert for the page's other rows (COPY and one merging INSERT on PostgreSQL, executemany on SQLite:
        console/bulk.py); a model instance per grant cost more than the grants' own writes at 100,000 users."""
        if not rows:
            return
        upsert_rows(
            AccessGrant,
            SAVED,
            self._values(rows, now),
            conflict=("job_id", "target_id", "kind", "item_id"),
            update=("source_id", "item_name", "record_id", "owned", "granted_at", "cycle_id"),
        )
