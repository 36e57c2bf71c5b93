"""Jobs, cycles, links and the provisioning log."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from connections.models import Application
from console.choices import ChoiceSet
from console.concurrency import Versioned


class FitsColumns:
    """For rows written from remote text (names, codes, requests): `fit_columns()` cuts each string to its
    column's max_length, once, before the row is saved or bulk-created. A field deferred when the row was read is
    neither loaded (a query per row) nor written."""

    def fit_columns(self):
        values = self.__dict__
        for column in self._meta.concrete_fields:
            if column.attname not in values:  # deferred
                continue
            value = values[column.attname]
            if column.max_length and isinstance(value, str) and len(value) > column.max_length:
                setattr(self, column.attname, value[: column.max_length])
        return self


def new_job_id() -> str:
    return f"SfSandboxOutDelta.{uuid.uuid4().hex}"


class SyncScope(models.TextChoices):
    ASSIGNED = "assigned", "Sync only assigned users and groups"
    ALL = "all", "Sync all users and groups"


class ProvisioningJob(FitsColumns, Versioned, models.Model):
    """The provisioning job of one application: its Settings section, status and watermark."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="job")
    job_id = models.CharField(max_length=80, unique=True, default=new_job_id, editable=False)

    # Settings -----------------------------------------------------------------
    notification_email = models.CharField(
        "Notification Email",
        max_length=1000,
        blank=True,
        help_text="Address of a person or group that receives provisioning error notifications; "
        "separate several addresses with commas.",
    )
    notify_on_failure = models.BooleanField("Send an email notification when a failure occurs", default=False)
    prevent_accidental_deletions = models.BooleanField("Prevent accidental deletions", default=True)
    deletion_threshold = models.PositiveIntegerField(
        "Accidental deletion threshold",
        default=500,
        validators=[MinValueValidator(1)],
        help_text="When one cycle would deactivate more users than this, the deactivations are held for review.",
    )
    scope = models.CharField(max_length=20, choices=SyncScope.choices, default=SyncScope.ASSIGNED)
    skip_out_of_scope_deletions = models.BooleanField(
        "Skip out of scope deletions",
        default=False,
        help_text="Users who leave scope are not deactivated in Salesforce.",
    )
    interval_minutes = models.PositiveIntegerField(
        "Cycle interval (minutes)",
        default=40,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text="Time between incremental cycles (Entra's is fixed at 40 minutes).",
    )
    retry_budget_minutes = models.PositiveIntegerField(
        "Retry time budget (minutes)",
        default=15,
        validators=[MinValueValidator(0), MaxValueValidator(240)],
        help_text="How long one cycle may spend waiting for Salesforce and Microsoft Graph to recover (throttling "
        "with Retry-After, server errors, timeouts) before its calls fail instead of being retried; 0 retries nothing.",
    )

    # State ---------------------------------------------------------------------
    enabled = models.BooleanField("Provisioning Status", default=False, help_text="On: cycles run on schedule.")
    watermark = models.TextField(blank=True, help_text="Graph delta link of the last completed cycle.")
    needs_initial_cycle = models.BooleanField(default=True)
    # The Scope the watermark was taken under: a changed Scope makes the next cycle an initial one (in Entra,
    # switching needs a Restart; after "assigned" -> "all" an incremental cycle would create nobody new).
    watermark_scope = models.CharField(max_length=20, blank=True)
    # Salesforce access: {item id: [assignment count, latest SystemModstamp]} as read at the end of the last cycle;
    # an item whose figures differ at the start of the next one changed in Salesforce and is read again.
    access_baseline = models.JSONField(default=dict, blank=True)
    mapping_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    # Quarantine (Graph synchronizationQuarantine): set by the engine, cleared by a good cycle or Restart.
    quarantine_reason = models.CharField(max_length=60, blank=True)
    quarantine_began = models.DateTimeField(null=True, blank=True)
    quarantine_series_began = models.DateTimeField(null=True, blank=True)
    quarantine_series_count = models.PositiveIntegerField(default=0)
    quarantine_next_attempt = models.DateTimeField(null=True, blank=True)
    quarantine_error = models.TextField(blank=True)
    quarantine_request = models.CharField(max_length=500, blank=True)
    quarantine_min_operations = models.PositiveIntegerField(
        "Minimum operations before the failure ratio quarantines",
        default=10,
        validators=[MinValueValidator(1)],
        help_text="A cycle is quarantined when more than 40% of its operations fail, once it has at least this "
        "many operations (Entra waits for 5,000; small deployments need a lower figure).",
    )
    # Prevent accidental deletions: the cycle whose StagedDelete entries are held, and the Allow deletes answer.
    held_deletions_cycle = models.ForeignKey(
        "ProvisioningCycle", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deletions_allowed = models.BooleanField(
        default=False, help_text="Allow deletes was chosen: the next cycle exports the held deactivations."
    )

    # Paused for Salesforce's daily API allowance (REQUEST_LIMIT_EXCEEDED): when, why, and when /limits is read next
    # (provisioning/operations/api_limit.py); empty while not paused.
    api_limit_paused_at = models.DateTimeField(null=True, blank=True)
    api_limit_next_check = models.DateTimeField(null=True, blank=True)
    api_limit_message = models.CharField(max_length=500, blank=True)

    # The running-cycle claim (provisioning/engine/lock.py): at most one cycle per job, on any database.
    lock_owner = models.CharField(max_length=200, blank=True)
    lock_expires_at = models.DateTimeField(null=True, blank=True)
    running_cycle = models.ForeignKey(
        "ProvisioningCycle", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return self.job_id

    def notification_recipients(self) -> list[str]:
        return [part.strip() for part in self.notification_email.replace(";", ",").split(",") if part.strip()]

    @property
    def is_quarantined(self) -> bool:
        return bool(self.quarantine_reason)

    QUARANTINE_FIELDS = (
        "quarantine_reason",
        "quarantine_began",
        "quarantine_series_began",
        "quarantine_series_count",
        "quarantine_next_attempt",
        "quarantine_error",
        "quarantine_request",
    )

    def clear_quarantine(self) -> None:
        """Forget the quarantine; save with update_fields=[*QUARANTINE_FIELDS, ...]."""
        self.quarantine_reason = ""
        self.quarantine_began = self.quarantine_series_began = self.quarantine_next_attempt = None
        self.quarantine_series_count = 0
        self.quarantine_error = self.quarantine_request = ""


# ---------------------------------------------------------------------------------------------------------------
# Cycles
# ---------------------------------------------------------------------------------------------------------------


class CycleKind(models.TextChoices):
    INITIAL = "initial", "Initial"
    INCREMENTAL = "incremental", "Incremental"
    ON_DEMAND = "on_demand", "On demand"
    DRY_RUN = "dry_run", "Dry run"


class CycleTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    SYNC_NOW = "sync_now", "Sync now"
    RESTART = "restart", "Restart provisioning"
    COMMAND = "command", "Management command"
    ON_DEMAND = "on_demand", "Provision on demand"
    API_LIMIT = "api_limit", "Resumed after the API limit"
    TAKEOVER = "takeover", "Taken over after a crashed worker"


class CycleStatus(ChoiceSet):
    PENDING = "pending", "Queued", "grey"
    RUNNING = "running", "Running", "blue"
    SUCCEEDED = "succeeded", "Completed", "green"
    COMPLETED_WITH_ERRORS = "completed_with_errors", "Completed with errors", "amber"
    PAUSED = "paused", "Paused", "grey"  # Provisioning Status switched Off: stopped after the current page
    FAILED = "failed", "Failed", "red"  # stopped by a stop-class error (credentials, permissions, API limit)
    CRASHED = "crashed", "Crashed", "red"  # the worker died or an unexpected error escaped

    @property
    def is_terminal(self) -> bool:
        return self.value in TERMINAL_CYCLE_STATUSES


TERMINAL_CYCLE_STATUSES = frozenset({"succeeded", "completed_with_errors", "paused", "failed", "crashed"})

COUNTER_FIELDS = (
    "created",
    "updated",
    "disabled",
    "enabled",
    "skipped",
    "failed",
    "unchanged",
    "staged",
    "granted",
    "revoked",
)


def new_guid() -> str:
    return str(uuid.uuid4())


class ProvisioningCycle(FitsColumns, models.Model):
    """One iteration of a job (Graph's cycleId): its type, lifecycle, counters and progress."""

    job = models.ForeignKey(ProvisioningJob, on_delete=models.CASCADE, related_name="cycles")
    cycle_id = models.CharField(max_length=36, unique=True, default=new_guid, editable=False)
    kind = models.CharField(max_length=20, choices=CycleKind.choices)
    trigger = models.CharField(max_length=20, choices=CycleTrigger.choices, default=CycleTrigger.SCHEDULE)
    status = models.CharField(max_length=30, choices=CycleStatus.choices, default=CycleStatus.PENDING)
    dry_run = models.BooleanField(default=False)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the process running the cycle.")
    mapping_version = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    # Counters: every object evaluated lands in exactly one of them.
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    disabled = models.PositiveIntegerField(default=0)
    enabled = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    staged = models.PositiveIntegerField(default=0, help_text="Deactivations held by Prevent accidental deletions.")
    granted = models.PositiveIntegerField(
        default=0, help_text="Permission sets, licences and group memberships granted."
    )
    revoked = models.PositiveIntegerField(
        default=0, help_text="Permission sets, licences and group memberships revoked."
    )

    # Progress: pages and objects done; totals are estimates (Graph gives no count up front) or null.
    pages_done = models.PositiveIntegerField(default=0)
    pages_total = models.PositiveIntegerField(null=True, blank=True)
    objects_done = models.PositiveIntegerField(default=0)
    objects_total = models.PositiveIntegerField(null=True, blank=True)

    salesforce_calls = models.PositiveIntegerField(default=0)
    graph_calls = models.PositiveIntegerField(default=0)
    # Answers that said "too many requests" (retried after the delay asked for), for /metrics.
    salesforce_throttles = models.PositiveIntegerField(default=0)
    graph_throttles = models.PositiveIntegerField(default=0)
    # Salesforce's Sforce-Limit-Info (api-usage=used/max) as last answered: the org's rolling 24-hour API usage.
    salesforce_api_used = models.PositiveIntegerField(null=True, blank=True)
    salesforce_api_max = models.PositiveIntegerField(null=True, blank=True)
    retry_seconds = models.PositiveIntegerField(default=0, help_text="Seconds of the retry time budget spent.")
    assignments_read = models.CharField(
        max_length=500, blank=True, help_text="How the cycle read the assignments (audit log, in full, and why)."
    )

    # Why a cycle failed or crashed (shown on the overview, used by quarantine).
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    error_request = models.CharField(max_length=500, blank=True, help_text="The failing request, without secrets.")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["job", "-created_at"], name="cycle_job_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} cycle {self.cycle_id}"

    # Lifecycle -----------------------------------------------------------------
    def start(self, worker: str = "") -> None:
        if self.status != CycleStatus.PENDING:
            raise ValueError(f"Cycle {self.cycle_id} cannot start from status {self.status}")
        now = timezone.now()
        self.status = CycleStatus.RUNNING
        self.started_at = self.heartbeat_at = now
        self.worker = worker
        self.save(update_fields=["status", "started_at", "heartbeat_at", "worker"])

    def finish(self, status: str, *, error_code: str = "", error_message: str = "", error_request: str = "") -> bool:
        """End the cycle in a terminal state; counters and progress are saved with it, the error fields cut to their
        columns (a remote system's code or request can be longer). A cycle the watchdog already ended (its worker
        presumed dead) keeps that ending: False, and this object then holds the row as stored."""
        status = CycleStatus(status)
        if not status.is_terminal:
            raise ValueError(f"{status.label} is not a terminal cycle status")
        if self.status in TERMINAL_CYCLE_STATUSES:
            raise ValueError(f"Cycle {self.cycle_id} already finished ({self.status})")
        self.status = status
        self.finished_at = timezone.now()
        self.error_code, self.error_message, self.error_request = error_code, error_message, error_request
        self.fit_columns()
        if self.pk is None:
            self.save()
            return True
        values = {f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields if not f.primary_key}
        unfinished = type(self).objects.filter(pk=self.pk).exclude(status__in=TERMINAL_CYCLE_STATUSES)
        if unfinished.update(**values):
            return True
        self.refresh_from_db()
        return False

    def save_progress(self) -> bool:
        """Counters, progress and heartbeat, written after every page; only while the row still says Running (a worker
        that lost its claim writes nothing over the ending the watchdog gave it)."""
        self.heartbeat_at = timezone.now()
        fields = [
            *COUNTER_FIELDS,
            "pages_done",
            "pages_total",
            "objects_done",
            "objects_total",
            "salesforce_calls",
            "graph_calls",
            "salesforce_throttles",
            "graph_throttles",
            "salesforce_api_used",
            "salesforce_api_max",
            "retry_seconds",
            "assignments_read",
            "heartbeat_at",
        ]
        values = {name: getattr(self, name) for name in fields}
        return bool(type(self).objects.filter(pk=self.pk, status=CycleStatus.RUNNING).update(**values))

    @property
    def is_finished(self) -> bool:
        return self.status in TERMINAL_CYCLE_STATUSES

    @property
    def duration(self):
        if self.started_at is None:
            return None
        return (self.finished_at or timezone.now()) - self.started_at

    @property
    def progress_percent(self) -> int | None:
        if not self.objects_total:
            return None
        return min(100, round(100 * self.objects_done / self.objects_total))

    def counters(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTER_FIELDS}


# ---------------------------------------------------------------------------------------------------------------
# Links and escrows
# ---------------------------------------------------------------------------------------------------------------


class ProvisionedLink(FitsColumns, models.Model):
    """Entra user <-> Salesforce user, with what was last exported so unchanged users cost no write."""

    # (job, source_id) is unique: its index serves what one of the job alone would.
    job = models.ForeignKey(ProvisioningJob, on_delete=models.CASCADE, related_name="links", db_index=False)
    source_id = models.CharField("Entra object id", max_length=64)
    target_id = models.CharField("Salesforce user id", max_length=18, blank=True)
    display_name = models.CharField(max_length=256, blank=True)
    user_principal_name = models.CharField(max_length=256, blank=True)
    # Target attribute -> value as last exported (or as read from Salesforce when matched).
    exported = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True, help_text="IsActive in Salesforce as last exported.")
    in_scope = models.BooleanField(default=True)
    # Sorted role values the user had when last evaluated: an assignment change re-reads the user.
    roles_key = models.CharField(max_length=1000, blank=True)
    # Written with the rest of the row when a cycle writes it; a cycle that reads an unchanged link only remembers it
    # read it (engine/context.py SeenLinks), so this is the last cycle that read *and wrote* the link.
    last_seen_cycle = models.BigIntegerField(null=True, blank=True, help_text="pk of the last cycle that read it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "source_id"], name="one_link_per_source")]
        indexes = [
            models.Index(fields=["job", "target_id"], name="link_job_target"),
            models.Index(fields=["job", "user_principal_name"], name="link_job_upn"),
        ]

    def __str__(self) -> str:
        return f"{self.user_principal_name or self.source_id} -> {self.target_id or '(none)'}"


ESCROW_DELAYS = (timedelta(hours=6), timedelta(hours=12), timedelta(hours=24))


def escrow_delay(attempts: int) -> timedelta:
    """When a failed object is retried (Entra's escrow): +6 h, +12 h, +24 h after its failures, then daily.

    A mapping change or Restart provisioning makes every escrowed object due at once."""
    return ESCROW_DELAYS[min(max(attempts, 1), len(ESCROW_DELAYS)) - 1]


class Escrow(FitsColumns, models.Model):
    """A source object whose last change failed: retried in later cycles until it succeeds or Restart."""

    job = models.ForeignKey(ProvisioningJob, on_delete=models.CASCADE, related_name="escrows")
    source_id = models.CharField(max_length=64)
    display_name = models.CharField(max_length=256, blank=True)
    user_principal_name = models.CharField(max_length=256, blank=True)
    action = models.CharField(max_length=20, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField(default=timezone.now)
    last_failed_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    last_cycle = models.ForeignKey(ProvisioningCycle, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "source_id"], name="one_escrow_per_source")]
        indexes = [models.Index(fields=["job", "next_attempt_at"], name="escrow_job_due")]

    def __str__(self) -> str:
        return f"Escrow {self.user_principal_name or self.source_id} ({self.attempts} attempts)"


class AccessGrant(models.Model):
    """A piece of Salesforce access this console granted to a user: an assignment or membership (with the record's
    id), the Salesforce Role it set, or a feature licence it switched on. Only what is recorded here is ever revoked,
    unless the item says to also remove access granted outside the console."""

    # No index of their own: the constraint and index below lead with the job; rows are never looked up by cycle.
    job = models.ForeignKey(ProvisioningJob, on_delete=models.CASCADE, related_name="access_grants", db_index=False)
    source_id = models.CharField("Entra object id", max_length=64)
    target_id = models.CharField("Salesforce user id", max_length=18)
    kind = models.CharField(max_length=30)  # mappings.access.models.AccessKind, or "flag"
    item_id = models.CharField(max_length=64, help_text="The Salesforce id of the item, or the User field of a flag.")
    item_name = models.CharField(max_length=255, blank=True)
    record_id = models.CharField(max_length=18, blank=True, help_text="The assignment or membership record.")
    owned = models.BooleanField(
        default=True, help_text="Granted by this console; False: seen in Salesforce, granted there by someone else."
    )
    granted_at = models.DateTimeField(default=timezone.now)
    cycle = models.ForeignKey(
        ProvisioningCycle, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "target_id", "kind", "item_id"], name="one_grant_per_user_item")
        ]
        indexes = [models.Index(fields=["job", "source_id"], name="grant_job_source")]

    def __str__(self) -> str:
        return f"{self.kind} {self.item_name or self.item_id} -> {self.target_id}"


# ---------------------------------------------------------------------------------------------------------------
# The provisioning log
# ---------------------------------------------------------------------------------------------------------------


class LogAction(ChoiceSet):
    CREATE = "create", "Create", "green"
    UPDATE = "update", "Update", "blue"
    DISABLE = "disable", "Disable", "amber"
    DELETE = "delete", "Delete", "red"
    STAGED_DELETE = "stageddelete", "StagedDelete", "amber"
    OTHER = "other", "Other", "grey"


class LogStatus(ChoiceSet):
    SUCCESS = "success", "Success", "green"
    FAILURE = "failure", "Failure", "red"
    SKIPPED = "skipped", "Skipped", "grey"
    WARNING = "warning", "Warning", "amber"


class ProvisioningLogEntry(FitsColumns, models.Model):
    """One object in one cycle (Graph provisioningObjectSummary). Written in bulk by the engine, never edited.

    Steps and modified properties are JSON lists on the row: one INSERT per entry keeps bulk writes cheap,
    and no filter of the logs pages reads inside them.
      steps:               [{"name", "type", "status", "description", "details": {..}}]
      modified_properties: [{"displayName", "oldValue", "newValue"}]   (Redact()-ed values are "[Redact]")
    """

    # Every row a cycle writes updates each of the table's indexes: the keys lead the (job, time) and (cycle, time)
    # indexes below, which serve what an index of the key alone would (a cascade's delete among it), and the change
    # id's uniqueness is a constraint, whose index is the only one it needs (a unique field would add a second one on
    # PostgreSQL for LIKE, which no search of a change id does).
    job = models.ForeignKey(ProvisioningJob, on_delete=models.CASCADE, related_name="log_entries", db_index=False)
    cycle = models.ForeignKey(ProvisioningCycle, on_delete=models.CASCADE, related_name="log_entries", db_index=False)
    change_id = models.CharField(max_length=36, default=new_guid, editable=False)
    activity_at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=20, choices=LogAction.choices)
    status = models.CharField(max_length=20, choices=LogStatus.choices)
    dry_run = models.BooleanField(default=False)

    source_id = models.CharField(max_length=64, blank=True)
    source_display_name = models.CharField(max_length=256, blank=True)
    source_upn = models.CharField(max_length=256, blank=True)
    target_id = models.CharField(max_length=18, blank=True)
    target_display_name = models.CharField(max_length=256, blank=True, help_text="Salesforce Username.")

    modified_properties = models.JSONField(default=list, blank=True)
    steps = models.JSONField(default=list, blank=True)

    error_code = models.CharField(max_length=100, blank=True)
    error_reason = models.TextField(blank=True)
    error_recommendation = models.TextField(blank=True)
    error_category = models.CharField(max_length=30, blank=True)  # failure / nonServiceFailure / success
    duration_ms = models.PositiveIntegerField(default=0)

    # Escrow retries (issue of operations): which attempt this was and when the next one is due.
    escrow_attempt = models.PositiveIntegerField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-activity_at", "-id"]
        verbose_name_plural = "provisioning log entries"
        indexes = [
            # Keyset pagination (activity_at, id) per job, alone and under each equality filter.
            models.Index(fields=["job", "-activity_at", "-id"], name="log_job_recent"),
            models.Index(fields=["job", "status", "-activity_at", "-id"], name="log_job_status_recent"),
            models.Index(fields=["job", "action", "-activity_at", "-id"], name="log_job_action_recent"),
            models.Index(fields=["cycle", "-activity_at", "-id"], name="log_cycle_recent"),
            models.Index(fields=["job", "source_id"], name="log_job_source"),
            models.Index(fields=["job", "target_id"], name="log_job_target"),
            models.Index(fields=["activity_at"], name="log_activity"),  # retention purge
            # The identity filter's case-insensitive prefix search of the UPN and display name has PostgreSQL
            # expression indexes (UPPER(col) text_pattern_ops, migration 0003_logs_indexes) and SQLite NOCASE ones
            # (migration 0011_logs_nocase_indexes), outside the model state: an index of the plain column serves
            # neither database's search, so there is none.
        ]
        constraints = [models.UniqueConstraint(fields=["change_id"], name="log_change_id_unique")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.source_upn or self.source_id}: {self.get_status_display()}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Provisioning log entries are never edited")
        super().save(*args, **kwargs)
