"""A cycle, orchestrated: import page by page through the pipeline, save the watermark.

Entry point: run_claimed_cycle(job_pk, owner, kind=None, trigger=..., dry_run=False) -> CycleOutcome, for a caller
that holds the job's claim (engine/lock.py): provisioning/tasks.py's run_cycle, which then hands the outcome to
provisioning/operations/after_cycle.py. CycleRunner runs inside lifecycle.running_cycle(), which ends the cycle;
provision on demand uses the same runner for one user (provision_users).

Memory stays bounded by a page of users: a full cycle reads each page's roles from the application's assignment
snapshot, whether it followed the changes since the last cycle or read the assignments in full and stored them (no
snapshot to follow, or its periodic reconciliation). Only a full read that could not be stored (incomplete, or older
than a change made on the page) is provisioned from the map it gave, held for the cycle.
The watermark (Graph delta link) is saved only when every change was exported or escrowed.

An incomplete import (a page of users that could not be read after the retries, a group whose members could not be
read) does not end the cycle: users that were read are created and updated, but nobody is deactivated (the deletion
hold drops every deactivation at the end), the watermark does not move, and the cycle ends Completed with errors
with IMPORT_INCOMPLETE and why: the Overview says so.
"""

from __future__ import annotations

import gc
import logging
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from connections.clients.errors import BadRequest, DeltaExpired, RemoteError, RequestLimitExceeded, StopError
from connections.clients.graph import GraphClient
from connections.clients.http import RetryBudget
from connections.clients.salesforce import SalesforceClient
from mappings.compiled import compile_mapping
from mappings.directory.assignments import AssignmentReader
from mappings.directory.changes import StoredRoles
from mappings.directory.changes import follow as follow_assignments
from mappings.directory.changes import provisioned as assignments_provisioned
from mappings.directory.models import AssignmentSnapshot
from mappings.directory.snapshot import PeopleNames
from mappings.directory.users import select_for, source_user
from mappings.lookups import GraphTenant, SalesforceUniqueness
from mappings.target_types import TargetTypes
from provisioning.engine import lock
from provisioning.engine.access import AccessStep
from provisioning.engine.context import PageContext
from provisioning.engine.deletion_hold import held_source_ids, hold_for
from provisioning.engine.exporter import Exporter
from provisioning.engine.importer import SourceReader, is_removed
from provisioning.engine.items import ItemError, WorkItem
from provisioning.engine.lifecycle import (
    ClaimLost,
    CycleOutcome,
    CyclePaused,
    CycleRun,
    recover_crashed_cycles,
    running_cycle,
)
from provisioning.engine.log import LogWriter
from provisioning.engine.manager import MANAGER_EXPAND, MANAGER_FIELD, ManagerStep
from provisioning.engine.matcher import INDEX_THRESHOLD, Matcher, target_fields
from provisioning.engine.organization import EMAIL, check_organization
from provisioning.engine.pipeline import PageRows, page_rows, process
from provisioning.engine.planner import Policy
from provisioning.engine.record import UNASSIGNED
from provisioning.engine.sql import AnyOf
from provisioning.engine.writer import ProfileCache, SalesforceWriter
from provisioning.logahead import read_ahead
from provisioning.models import (
    CycleKind,
    CycleStatus,
    CycleTrigger,
    Escrow,
    ProvisionedLink,
    ProvisioningCycle,
    ProvisioningJob,
    SyncScope,
)

logger = logging.getLogger(__name__)
PAGE_SIZE = 999
# Graph pages of a full read that go through the pipeline together: a page's creates and updates take 6 collections
# (2 Composite calls of at most 5), two pages' take 10 or 11 (2 or 3 calls).
FULL_READ_PAGES = 2
IMPORT_INCOMPLETE = "IMPORT_INCOMPLETE"
UNSEEN_KEYS = 20000  # link keys read at a time when looking for the links a full cycle did not read


@dataclass
class Ahead:
    """A page's rows read before its turn: links and escrows (PageRows), stored roles (None: read in its turn)."""

    rows: PageRows
    roles: dict[str, tuple[str, ...] | None] | None


def _grouped(pages: Iterable[list[dict]], size: int) -> Iterator[tuple[list[dict], int]]:
    """The pages joined `size` at a time: (their users, how many pages). A read that fails part-way first gives the
    pages read before it, as it would one at a time."""
    users: list[dict] = []
    count = 0
    try:
        for page in pages:
            users.extend(page)
            count += 1
            if count >= size:
                yield users, count
                users, count = [], 0
    except Exception:
        if count:
            yield users, count
        raise
    if count:
        yield users, count


def choose_kind(job: ProvisioningJob, mapping_version: int) -> str:
    if job.needs_initial_cycle or not job.watermark or job.mapping_version != mapping_version:
        return CycleKind.INITIAL
    if job.watermark_scope and job.watermark_scope != job.scope:
        return CycleKind.INITIAL
    return CycleKind.INCREMENTAL


def run_claimed_cycle(
    job_pk: int,
    owner: str,
    kind: str | None = None,
    *,
    trigger: str = CycleTrigger.SCHEDULE,
    dry_run: bool = False,
    salesforce_client: SalesforceWriter | None = None,
    graph_client: GraphClient | None = None,
    keeper: lock.ClaimKeeper | None = None,
) -> CycleOutcome:
    """Run one cycle of the job now, in this process; `owner` holds the job's claim (kept alive by `keeper`)."""
    recover_crashed_cycles(job_pk)
    keeper = keeper or lock.ClaimKeeper(job_pk, owner)
    job = ProvisioningJob.objects.select_related(
        "application__entra", "application__salesforce", "application__user_mapping"
    ).get(pk=job_pk)
    object_mapping = job.application.user_mapping
    if dry_run:
        kind = CycleKind.DRY_RUN
    kind = kind or choose_kind(job, object_mapping.version)
    if not dry_run and job.mapping_version != object_mapping.version:
        # The new mappings may fix what failed: escrowed users are retried at once.
        Escrow.objects.filter(job=job).update(next_attempt_at=timezone.now())
    with running_cycle(
        job, kind=kind, trigger=trigger, dry_run=dry_run, worker=owner, mapping_version=object_mapping.version
    ) as run:
        ProvisioningJob.objects.filter(pk=job_pk).update(running_cycle=run.cycle)
        if keeper is not None:
            keeper.cycle_pk = run.cycle.pk
        runner = CycleRunner(
            job, run, owner, salesforce_client=salesforce_client, graph_client=graph_client, keeper=keeper
        )
        runner.run()
    assert run.outcome is not None
    return run.outcome


class CycleRunner:
    """Runs one cycle's pages; raises what ends the cycle early (lifecycle.ENDINGS says how)."""

    def __init__(
        self,
        job: ProvisioningJob,
        run: CycleRun,
        owner: str,
        *,
        salesforce_client: SalesforceWriter | None = None,
        graph_client: GraphClient | None = None,
        keeper: lock.ClaimKeeper | None = None,
    ) -> None:
        self.job = job
        self.cycle_run = run
        self.cycle: ProvisioningCycle = run.cycle
        self.owner = owner
        self.application = job.application
        self.object_mapping = self.application.user_mapping
        self.started_enabled = job.enabled
        self.sync_all = job.scope == SyncScope.ALL
        # One retry time budget for the cycle, shared by both clients (a client handed in keeps its own when it
        # has none to share, e.g. a recorder in tests).
        self.retry_budget = RetryBudget(job.retry_budget_minutes * 60, label="the cycle's retry time budget")
        self.salesforce: SalesforceWriter = salesforce_client or SalesforceClient(
            self.application.salesforce, dry_run=self.cycle.dry_run, retry_budget=self.retry_budget
        )
        self.graph = graph_client or GraphClient(self.application.entra, retry_budget=self.retry_budget)
        for client in (self.salesforce, self.graph):
            if hasattr(client, "retry_budget"):
                client.retry_budget = self.retry_budget
        # No Salesforce write leaves a worker that lost its claim on the job (engine/lock.py); provision on demand
        # holds no claim and has no keeper.
        self.keeper = keeper
        self.freezes = False  # whether pages freeze what came before them (run, _page)
        if keeper is not None and hasattr(self.salesforce, "before_write"):
            self.salesforce.before_write = keeper.check
        self.directory = AssignmentReader(self.graph)
        self.incomplete: list[str] = []  # why the import is incomplete (then nobody is deactivated)
        self.unnamed = 0  # users the assignment snapshot stored without UPN and mail, named by the full read

    # -- setup --------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """Compile the mapping (InvalidMappingError ends the cycle) and build the pipeline's context."""
        self.compiled = compile_mapping(self.object_mapping)
        self.bind_lookups()
        access = AccessStep.for_cycle(self.application, self.salesforce, self.job, self.cycle)
        settings = access.definition.settings
        sync_manager = settings is not None and settings.sync_manager
        manager = ManagerStep(self.salesforce, self.graph, self.job, self.cycle) if sync_manager else None
        self.reader = SourceReader(
            self.graph, select_for(self.compiled.source_attributes), expand=MANAGER_EXPAND if manager else None
        )
        targets = list(self.object_mapping.attributes.values_list("target_attribute", flat=True))
        types = TargetTypes.for_application(self.application)
        profiles = ProfileCache(self.salesforce)
        if access.active:
            targets += access.target_fields()
        if manager is not None:
            targets.append(MANAGER_FIELD)
        repair = self.application.salesforce.repair_invalid_emails and self.cycle.kind != CycleKind.ON_DEMAND
        if repair:
            targets.append(EMAIL)
        self.matcher = Matcher(self.salesforce, target_fields(targets), profiles)
        redacted = frozenset(self.compiled.redacted_targets)
        self.ctx = PageContext(
            cycle=self.cycle,
            compiled=self.compiled,
            policy=Policy(
                create=self.object_mapping.action_create,
                update=self.object_mapping.action_update,
                delete=self.object_mapping.action_delete,
                skip_out_of_scope_deletions=self.job.skip_out_of_scope_deletions,
            ),
            types=types,
            matcher=self.matcher,
            exporter=Exporter(self.salesforce, profiles, types),
            log=LogWriter(self.cycle, redacted_targets=redacted),
            initial=self.cycle.kind in (CycleKind.INITIAL, CycleKind.DRY_RUN),
            sync_all=self.sync_all,
            deletion_hold=hold_for(self.job, self.cycle, redacted),
            failures=self.cycle_run.failures,
            access=access,
            manager=manager,
            repair_invalid_emails=repair,
        )
        self.cycle_run.deletion_hold = self.ctx.deletion_hold

    def check_organization(self) -> None:
        """OrgChanged, before anything is written, when Salesforce is another org than the links point into."""
        check_organization(self.salesforce, self.application.salesforce)

    def bind_lookups(self) -> None:
        """What DefaultDomain and SelectUniqueValue need, when the mapping calls them: the tenant's default domain
        is read now (a refusal ends the cycle, every user would fail alike); SelectUniqueValue's candidates are
        checked through the same Salesforce client (a dry run's reads go out too)."""
        functions = self.compiled.functions
        directory = GraphTenant(self.graph).read_now() if "DefaultDomain" in functions else None
        target = SalesforceUniqueness(self.salesforce) if "SelectUniqueValue" in functions else None
        self.compiled.bind(directory=directory, target=target)

    # -- the cycle ----------------------------------------------------------------------------------
    def run(self) -> None:
        # Pages freeze what came before them (see _page) only if nothing else froze objects in this process (a server
        # preloading its code may have): their unfreezing at the end would undo that too.
        self.freezes = gc.get_freeze_count() == 0
        try:
            self._run()
        finally:
            if self.freezes:
                gc.unfreeze()  # back in the collector's sight, cycles among them collected as usual
            self._flush_counts()

    def _run(self) -> None:
        cycle = self.cycle
        self.prepare()
        if not self.object_mapping.enabled:
            self.cycle_run.message = "The user mapping is disabled: nothing to do."
            return
        # Even a cycle with nothing to write finds out at once that the credentials stopped working (a reset
        # password rotates the token); in Entra the logs "simply stop" until something changes.
        self.salesforce.ensure_signed_in()
        self.check_organization()
        if self.ctx.access.active:
            self.ctx.access.find_drift()
        if cycle.kind == CycleKind.INCREMENTAL:
            try:
                watermark = self.run_incremental()
            except DeltaExpired:
                logger.warning("Job %s: the delta link expired; running a full import", self.job.pk)
                cycle.kind = CycleKind.INITIAL
                cycle.save(update_fields=["kind"])
                self.ctx.initial = True
                watermark = self.run_full()
        else:
            watermark = self.run_full()
        if self.incomplete:
            watermark = self.job.watermark if cycle.kind == CycleKind.INCREMENTAL else None
            self._say_incomplete()
        self._settle_deletions()
        if self.ctx.manager is not None:
            self.ctx.manager.settle()
        if self.ctx.access.active:
            self.ctx.access.save_baseline()
        if self.ctx.repair_invalid_emails and not cycle.dry_run and not self.incomplete:
            type(self.application.salesforce).objects.filter(pk=self.application.salesforce.pk).update(
                repair_invalid_emails=False
            )
        if not cycle.dry_run:
            if not self.sync_all and not self.incomplete:  # an incomplete cycle leaves the changes to the next one
                assignments_provisioned(self.application)
            ProvisioningJob.objects.filter(pk=self.job.pk).update(
                watermark=watermark or "",
                watermark_scope=self.job.scope,
                needs_initial_cycle=not watermark,
                mapping_version=cycle.mapping_version,
                updated_at=timezone.now(),
            )

    def run_full(self) -> str | None:
        """Initial cycle: every user, then the links nobody returned (deleted users) are deactivated."""
        assignments = self._assignments()
        self.ctx.assignments = assignments
        links = ProvisionedLink.objects.filter(job=self.job).count()
        if self.sync_all:
            estimate = self._previous_total()
        elif isinstance(assignments, StoredRoles):
            estimate = (
                AssignmentSnapshot.objects.filter(application=self.application)
                .values_list("reached", flat=True)
                .first()
            )
        else:
            estimate = len(assignments)
        self._set_totals(estimate)
        if estimate and estimate - links >= INDEX_THRESHOLD and self.compiled.matching:
            self.matcher.build_index([attrs[0] for attrs in self.compiled.matching if attrs])
        watermark = None
        if not self.cycle.dry_run:
            try:
                watermark = self.reader.latest_delta_link()
            except (BadRequest, DeltaExpired):
                watermark = None
        # The snapshot left the UPN and mail of users new to it to this read of every user (no second list).
        naming = self.unnamed > 0
        also = ("mail",) if naming and "mail" not in self.reader.select else ()
        # Named once the read is done (a read that fails names nobody: they are read again next time).
        names = PeopleNames(self.application) if naming else nullcontext()
        with self._reading("a page of users"), names:
            before: set[str] = set()
            for page, pages, ahead in self._read_ahead(_grouped(self.reader.all_users(also=also), FULL_READ_PAGES)):
                if naming:
                    names.add(page)
                for name in also:
                    for raw in page:
                        raw.pop(name, None)
                ids = [raw["id"] for raw in page if raw.get("id")]
                if ahead is not None and not before.isdisjoint(ids):
                    ahead = None  # a user also on the page before, whose rows were read before that page wrote them
                self._load_roles(ids, ahead.roles if ahead is not None else None)
                self._page([self._item(raw) for raw in page], pages=pages, rows=ahead.rows if ahead else None)
                before = set(ids)
        if not self.incomplete:
            self._disable_unseen()
        if watermark is None and not self.cycle.dry_run:
            for _page in self.reader.delta(None):  # no "from now on" token: a whole round yields the link
                pass
            watermark = self.reader.last_delta_link
        return watermark

    def run_incremental(self) -> str | None:
        """Changes since the watermark, then the users whose assignments changed, then escrows that are due.

        Assignments are followed through their changes (mappings/directory/changes.py: the audit log names the users
        and groups whose assignments changed, else appRoleAssignedTo is compared with the snapshot; group membership
        from groups/delta); when that needs a full read, every link is compared with the map it read, as an initial
        cycle would."""
        followed = None if self.sync_all else follow_assignments(self.application, self.directory)
        if followed is not None:
            self._note_assignments_read(followed.mechanism)
        if followed is None or followed.full:
            self.ctx.assignments = followed.roles_by_user if followed is not None else {}
        else:
            self.ctx.assignments = StoredRoles(self.application)
        processed: set[str] = set()
        with self._reading("a page of changes (delta)"):
            for page in self.reader.delta(self.job.watermark):
                raws = [raw for raw in page if raw.get("id") and raw["id"] not in processed]
                self._load_roles([raw["id"] for raw in raws])
                items = [self._item(raw) for raw in raws]
                processed.update(item.source_id for item in items)
                self._page(items)
        watermark = self.reader.last_delta_link
        refetch: list[str] = []
        if followed is not None and followed.full:
            self.incomplete.extend(followed.incomplete)
            refetch = self._compare_links(followed.roles_by_user or {}, processed)
        elif followed is not None:
            refetch = [sid for sid in sorted(followed.affected) if sid not in processed]
        now = timezone.now()
        due = Escrow.objects.filter(job=self.job, next_attempt_at__lte=now).values_list("source_id", flat=True)
        refetch.extend(sid for sid in due if sid not in processed)
        refetch.extend(sid for sid in held_source_ids(self.job) if sid not in processed)
        if self.ctx.access.active:  # users holding an item that changed in Salesforce since the last cycle
            refetch.extend(sid for sid in self.ctx.access.users_to_recheck() if sid not in processed)
        if self.ctx.manager is not None:  # users whose manager was not provisioned yet
            refetch.extend(sid for sid in self.ctx.manager.users_to_recheck() if sid not in processed)
        self._refetch(list(dict.fromkeys(refetch)))
        return watermark

    def _compare_links(self, assignments: dict[str, tuple[str, ...]], processed: set[str]) -> list[str]:
        """After a full read of the assignments: users unassigned are deprovisioned now, users whose roles changed
        or who are newly assigned are returned to be read again."""
        refetch: list[str] = []
        linked: set[str] = set()
        unassigned: list[WorkItem] = []
        forgotten: list[int] = []  # never provisioned and now unassigned: only the link row changes
        fields = ("source_id", "target_id", "roles_key", "active", "in_scope", "user_principal_name", "display_name")
        for link in self._links(fields):
            source_id = link["source_id"]
            linked.add(source_id)
            if source_id in processed:
                continue
            roles = assignments.get(source_id)
            if roles is None:
                if link["target_id"] and (link["active"] or link["in_scope"]):
                    unassigned.append(self._link_item(link, "Assigned to application: no"))
                elif not link["target_id"] and link["roles_key"] != UNASSIGNED:
                    forgotten.append(link["pk"])
            elif link["roles_key"] != ";".join(roles):
                refetch.append(source_id)
            if len(unassigned) >= PAGE_SIZE:
                self._page(unassigned)
                unassigned = []
        if unassigned:
            self._page(unassigned)
        if forgotten and not self.cycle.dry_run and not self.incomplete:
            ProvisionedLink.objects.filter(pk__in=forgotten).update(roles_key=UNASSIGNED, in_scope=False)
        refetch.extend(sid for sid in assignments if sid not in linked and sid not in processed)
        return refetch

    def _load_roles(self, source_ids: list[str], read: dict | None = None) -> None:
        if isinstance(self.ctx.assignments, StoredRoles):
            self.ctx.assignments.load(source_ids, read)

    def _read_ahead(self, pages: Iterator[tuple[list[dict], int]]) -> Iterator[tuple[list[dict], int, Ahead | None]]:
        """The full read's pages, each with its users' links, escrows and stored roles read while the page before is
        provisioned (on PostgreSQL, in a thread on a connection of its own, provisioning/logahead.py: psycopg lets
        go of the GIL while it waits, so the page's CPU work and the next page's queries overlap). The thread sees
        what is committed: a page's writes are, before the page after next is read, and a user also on the page before
        is read again in its turn. So inside an outer transaction (whose writes another connection cannot see) and on
        SQLite the pages come as they are and process() reads their rows."""
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return ((page, count, None) for page, count in pages)
        job_id = self.job.pk
        roles = self.ctx.assignments
        roles_ahead = roles.read_ahead if isinstance(roles, StoredRoles) and roles.forgetful else None

        def with_rows() -> Iterator[tuple[list[dict], int, Ahead]]:
            for page, count in pages:
                ids = [raw["id"] for raw in page if raw.get("id")]
                yield page, count, Ahead(page_rows(job_id, ids), roles_ahead(ids) if roles_ahead else None)

        return read_ahead(with_rows(), own_connection=True)

    def _assignments(self) -> dict[str, tuple[str, ...]] | StoredRoles:
        """Who is assigned, with their role values, as the application's assignment snapshot has them (the Users and
        groups page lists it): brought up to date by following what changed since the last cycle, as an incremental
        cycle does (mappings/directory/changes.py: the audit log, else appRoleAssignedTo compared in full), or read
        in full and stored when the snapshot cannot be followed or its periodic reconciliation is due. Either way the
        roles are then read from the snapshot a page of users at a time (StoredRoles: a million users' map, held for
        the whole cycle, cost more memory than anything else after the read); a full read that could not be stored
        (incomplete, or older than a change made on the page) gives its own map. A failed read ends the cycle and
        leaves the previous snapshot: it never makes a user unassigned."""
        if self.sync_all:
            return {}
        # Restart provisioning starts over: every assignment is read again, not followed from the snapshot.
        in_full = "Restart provisioning reads every assignment" if self.cycle.trigger == CycleTrigger.RESTART else ""
        followed = follow_assignments(
            self.application, self.directory, named_later=True, in_full=in_full, roles_if_stored=False
        )
        self._note_assignments_read(followed.mechanism)
        if not followed.full:
            return StoredRoles(self.application, forgetful=True)
        self.incomplete.extend(followed.incomplete)
        self.unnamed = followed.unnamed
        if followed.roles_by_user is None:  # stored: the snapshot holds exactly what the read gave
            return StoredRoles(self.application, forgetful=True)
        return followed.roles_by_user

    def _note_assignments_read(self, mechanism: str) -> None:
        """How this cycle read the assignments, on the cycle row (the Overview shows it) and in the worker's log."""
        logger.info("Job %s: assignments %s", self.job.pk, mechanism)
        self.cycle.assignments_read = mechanism[:500]
        self.cycle.save_progress()

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        """A read of Graph pages that, failing after the retries, leaves the import incomplete instead of ending the
        cycle (a stop-class error still ends it, and so does an expired delta link: a full read follows; Salesforce's
        daily API limit, met while the pages read are exported, pauses it)."""
        try:
            yield
        except (StopError, DeltaExpired, RequestLimitExceeded):
            raise
        except RemoteError as exc:
            logger.warning("Job %s: %s could not be read (%s); the import is incomplete", self.job.pk, what, exc.code)
            self.incomplete.append(f"{what} could not be read from Microsoft Graph: {exc.message}")

    def _say_incomplete(self) -> None:
        """The cycle ends Completed with errors and says why nobody was deactivated (Overview, cycle row, log)."""
        reasons = "; ".join(self.incomplete)
        logger.warning("Job %s: import incomplete, no deactivation this cycle: %s", self.job.pk, reasons)
        self.cycle_run.code = IMPORT_INCOMPLETE
        self.cycle_run.message = (
            f"The import was incomplete ({reasons}). Users that were read were created and updated; nobody was "
            "deactivated, because a user missing from an incomplete read may still be assigned. The next cycle reads "
            "everything again."
        )

    def provision_users(self, raw_users: list[dict], *, honour_escrow_backoff: bool = False) -> list[WorkItem]:
        """Run Graph users (read with self.reader.select) through the pipeline at once, e.g. provision on demand.

        Call prepare() and load the assignments first (self.ctx.assignments = self._assignments(), or the user's own
        from self.directory.roles_of(user_id)).
        Returns the items with their scope reasons, match note, plan, error and Salesforce id.
        """
        self.ctx.honour_escrow_backoff = honour_escrow_backoff
        items = process([self._item(raw) for raw in raw_users], self.ctx, assigned_scope_drops_unlinked=False)
        self._flush_counts()
        return items

    # -- helpers ------------------------------------------------------------------------------------
    def _item(self, raw: dict) -> WorkItem:
        removed = is_removed(raw)
        roles = self.ctx.assignments.get(raw["id"], ())
        return WorkItem(
            source_id=raw["id"],
            upn=raw.get("userPrincipalName") or "",
            display_name=raw.get("displayName") or "",
            user=source_user(raw, roles, removed=removed),
            change="Delete" if removed else "Add",
            roles_key=";".join(roles),
        )

    def _link_item(self, link: dict, reason: str) -> WorkItem:
        return WorkItem(
            source_id=link["source_id"],
            upn=link.get("user_principal_name") or "",
            display_name=link.get("display_name") or "",
            change="Delete",
            in_scope=False,
            scope_reasons=[reason],
        )

    def _links(self, fields: Iterable[str], extra: Q | None = None) -> Iterator[dict]:
        """Link rows in primary-key chunks (constant memory however many there are)."""
        last = 0
        query = ProvisionedLink.objects.filter(job=self.job)
        if extra is not None:
            query = query.filter(extra)
        while True:
            chunk = list(query.filter(pk__gt=last).order_by("pk").values("pk", *fields)[:2000])
            if not chunk:
                return
            yield from chunk
            last = chunk[-1]["pk"]

    def _disable_unseen(self) -> None:
        """Links the full import did not return: the user was deleted in Entra (or left its visibility)."""
        pending: list[WorkItem] = []
        for link in self._unseen_links(("source_id", "user_principal_name", "display_name")):
            pending.append(self._link_item(link, "Not returned by Microsoft Entra ID: deleted or no longer visible"))
            if len(pending) >= PAGE_SIZE:
                self._page(pending)
                pending = []
        if pending:
            self._page(pending)

    def _unseen_links(self, fields: Iterable[str]) -> Iterator[dict]:
        """The job's links to a Salesforce user still active or in scope that no page of this cycle read: their keys
        first (one column, in large chunks), then the rows of the few left."""
        seen = self.ctx.seen
        candidates = (
            ProvisionedLink.objects.filter(job=self.job).exclude(target_id="").filter(Q(active=True) | Q(in_scope=True))
        )
        if not self.cycle.dry_run:  # links written by this cycle: saw the user (PageContext.seen has them too)
            candidates = candidates.exclude(last_seen_cycle=self.cycle.pk)
        last = 0
        while True:
            keys = list(candidates.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:UNSEEN_KEYS])
            if not keys:
                return
            last = keys[-1]
            unseen = [pk for pk in keys if pk not in seen]
            for start in range(0, len(unseen), PAGE_SIZE):
                chunk = unseen[start : start + PAGE_SIZE]
                yield from ProvisionedLink.objects.filter(AnyOf(F("pk"), chunk)).order_by("pk").values(*fields)

    def _refetch(self, ids: list[str]) -> None:
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = ids[start : start + PAGE_SIZE]
            found, missing, errors = self.reader.fetch_users(chunk)
            self._load_roles(chunk)
            items = [self._item(raw) for raw in found]
            for source_id in missing:
                link = ProvisionedLink.objects.filter(job=self.job, source_id=source_id).values(
                    "source_id", "user_principal_name", "display_name"
                ).first() or {"source_id": source_id}
                items.append(self._link_item(link, "Deleted in Microsoft Entra ID"))
            for source_id, error in errors.items():
                item = WorkItem(source_id=source_id)
                item.fail(ItemError(error.code, error.message, "The user is retried in the next cycle.", step="import"))
                items.append(item)
            self._page(items)

    def _settle_deletions(self) -> None:
        """Deactivations held during the cycle run now (at most the threshold), or stay held over it."""
        hold = self.ctx.deletion_hold
        if hold is None:
            return
        released = hold.settle("; ".join(self.incomplete))
        self.ctx.deletion_hold = None  # released deactivations are exported, not held again
        try:
            for start in range(0, len(released), PAGE_SIZE):
                self._load_roles([item.source_id for item in released[start : start + PAGE_SIZE]])
                process(released[start : start + PAGE_SIZE], self.ctx)
        finally:
            self.ctx.deletion_hold = hold

    def _page(self, items: list[WorkItem], pages: int = 1, rows: PageRows | None = None) -> None:
        if not items:
            return
        if self.freezes:
            # What the cycle holds before this page (assignments read, links seen, the process's own) is moved out of
            # the garbage collector's sight until the cycle ends: a page's objects living for the page were promoted
            # to the oldest generation and set off full collections, each walking all of it again (at 20,000 users
            # 0.8 s of a plain all-create and 1.5 s of one that also grants access). Objects are still freed as
            # soon as nothing refers to them; only garbage held in reference cycles waits for the cycle's end.
            gc.freeze()
        process(items, self.ctx, rows=rows)
        self.cycle.pages_done += pages
        self._flush_counts()
        if self.keeper is not None and not self.keeper.renew():
            raise ClaimLost
        if self.started_enabled and not ProvisioningJob.objects.filter(pk=self.job.pk, enabled=True).exists():
            raise CyclePaused

    def _flush_counts(self) -> None:
        cycle = self.cycle
        cycle.salesforce_calls = self.salesforce.calls
        cycle.graph_calls = self.graph.calls
        cycle.salesforce_throttles = getattr(self.salesforce, "throttles", 0)
        cycle.graph_throttles = getattr(self.graph, "throttles", 0)
        usage = getattr(self.salesforce, "api_usage", None)
        if usage is not None:
            cycle.salesforce_api_used, cycle.salesforce_api_max = usage
        cycle.retry_seconds = round(self.retry_budget.spent)
        if cycle.objects_total is not None and cycle.objects_done > cycle.objects_total:
            cycle.objects_total = cycle.objects_done
        cycle.save_progress()

    def _set_totals(self, estimate: int | None) -> None:
        if estimate:
            self.cycle.objects_total = estimate
            self.cycle.pages_total = max(1, math.ceil(estimate / PAGE_SIZE))
            self.cycle.save_progress()

    def _previous_total(self) -> int | None:
        previous = (
            ProvisioningCycle.objects.filter(job=self.job, kind=CycleKind.INITIAL, status=CycleStatus.SUCCEEDED)
            .exclude(pk=self.cycle.pk)
            .values_list("objects_done", flat=True)
            .first()
        )
        return previous or None
