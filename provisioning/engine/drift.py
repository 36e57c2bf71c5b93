"""Drift: which managed items had their assignments changed in Salesforce since the last cycle.

One aggregate query per kind of record (count and latest SystemModstamp per item, all in one Composite call) at the
start of a cycle, compared with the figures saved at the end of the previous one (ProvisioningJob.access_baseline).
Only the users concerned by a changed item are read again (access.py); an unchanged org costs that one call.
A change made while a cycle runs, after its last read of the item, is included in the figures the cycle saves: it is
found again only when the item changes next (a documented limit).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from connections.clients.salesforce import soql_quote
from mappings.access.effective import Item
from provisioning.engine.grants import RECORDS
from provisioning.models import AccessGrant, ProvisioningJob

ITEM_FIELDS = ("PermissionSetGroupId", "PermissionSetId", "PermissionSetLicenseId", "GroupId")
NONE = [0, ""]  # the figures of an item nobody holds


class Drift:
    def __init__(self, client, job: ProvisioningJob, managed: Mapping[str, Item], *, dry_run: bool) -> None:
        self.client = client
        self.job = job
        self.managed = {i: item for i, item in managed.items() if item.kind in RECORDS}
        self.dry_run = dry_run
        self.drifted: set[str] = set()

    def _queries(self) -> list[str]:
        """SOQL counting the assignments of each managed item, with their latest change."""
        by_object: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for item in self.managed.values():
            sobject, field, _ = RECORDS[item.kind]
            by_object[sobject][field].append(item.id)
        queries = []
        for sobject, fields in by_object.items():
            names = sorted(fields)
            where = " OR ".join(f"{f} IN ({', '.join(soql_quote(i) for i in sorted(fields[f]))})" for f in names)
            select = ", ".join(names)
            # Ids are quoted by soql_quote; object and field names come from RECORDS.
            queries.append(
                f"SELECT {select}, COUNT(Id), MAX(SystemModstamp) FROM {sobject} "  # noqa: S608
                f"WHERE {where} GROUP BY {select}"
            )
        return queries

    def figures(self) -> dict[str, list]:
        queries = self._queries()
        if not queries:
            return {}
        figures: dict[str, list] = {}
        for rows in self.client.query_many(queries):
            for row in rows:
                item_id = next((row.get(f) for f in ITEM_FIELDS if row.get(f)), None)
                if item_id:
                    figures[item_id] = [row.get("expr0") or 0, row.get("expr1") or ""]
        return figures

    def find(self) -> set[str]:
        """Items whose assignments changed in Salesforce since the figures saved by the last cycle."""
        baseline = self.job.access_baseline or {}
        figures = self.figures()
        self.drifted = {i for i in self.managed if figures.get(i, NONE) != baseline.get(i)}
        return self.drifted

    def users_to_recheck(self) -> list[str]:
        """Source ids of users the console granted (or saw holding) a drifted item: an incremental cycle reads them."""
        if not self.drifted:
            return []
        rows = AccessGrant.objects.filter(job=self.job, item_id__in=self.drifted).values_list("source_id", flat=True)
        return list(dict.fromkeys(rows))

    def save(self, *, keep_drifted: bool = False) -> None:
        """The figures after this cycle's own writes, for the next cycle's comparison (not in a dry run).

        `keep_drifted` (provision on demand, which reads one user): items that had changed in Salesforce keep their
        old figures, so that the next cycle still reads the users concerned."""
        if self.dry_run:
            return
        figures = self.figures()
        old = self.job.access_baseline or {}
        baseline = {
            i: (old.get(i) if keep_drifted and i in self.drifted else figures.get(i, NONE)) for i in self.managed
        }
        ProvisioningJob.objects.filter(pk=self.job.pk).update(access_baseline=baseline)
        self.job.access_baseline = baseline
