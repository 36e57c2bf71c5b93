"""Jobs, cycles, links and the provisioning log."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from connections.models import Application


def new_job_id() -> str:
    return f"SfSandboxOutDelta.{uuid.uuid4().hex}"


class SyncScope(models.TextChoices):
    ASSIGNED = "assigned", "Sync only assigned users and groups"
    ALL = "all", "Sync all users and groups"


class ProvisioningJob(models.Model):
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

    # State ---------------------------------------------------------------------
    enabled = models.BooleanField("Provisioning Status", default=False, help_text="On: cycles run on schedule.")
    watermark = models.TextField(blank=True, help_text="Graph delta link of the last completed cycle.")
    needs_initial_cycle = models.BooleanField(default=True)
    mapping_version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.job_id

    def notification_recipients(self) -> list[str]:
        return [part.strip() for part in self.notification_email.replace(";", ",").split(",") if part.strip()]
