"""The audit log: every configuration change, who made it and which fields changed (never values of secrets)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from console.concurrency import EditRecord, Versioned  # noqa: F401  (EditRecord: a model of this app)


class AuditActivity(models.TextChoices):
    """Entra's activity names for configuration changes."""

    CREATE_APPLICATION = "Add application", "Add application"
    DELETE_APPLICATION = "Delete application", "Delete application"
    UPDATE_SETTINGS = "Update provisioning setting or credentials", "Update provisioning setting or credentials"
    START = "Enable/start provisioning configuration", "Enable/start provisioning configuration"
    STOP = "Disable/pause provisioning configuration", "Disable/pause provisioning configuration"
    RESTART = "Enable/restart provisioning configuration", "Enable/restart provisioning configuration"
    UPDATE_MAPPINGS = "Update attribute mappings or scope", "Update attribute mappings or scope"
    IMPORT_ROLES = "Import roles", "Import roles"
    UPDATE_ACCESS = "Update Salesforce access", "Update Salesforce access"
    UPDATE_ASSIGNMENTS = "Update application assignments", "Update application assignments"
    ALLOW_DELETES = "Allow deletes", "Allow deletes"
    REJECT_DELETES = "Reject deletes", "Reject deletes"
    QUARANTINE = "Quarantine", "Quarantine"
    TEST_CONNECTION = "Test connection", "Test connection"
    ROTATE_KEYS = "Rotate encryption keys", "Rotate encryption keys"
    UPDATE_SIGN_IN = "Update sign-in settings", "Update sign-in settings"
    CREATE_API_TOKEN = "Create API token", "Create API token"
    REVOKE_API_TOKEN = "Revoke API token", "Revoke API token"
    API_CALL = "API call", "API call"
    REMATCH = "Re-match after refresh", "Re-match after refresh"


class AuditEntry(models.Model):
    """One configuration change. Written once, never edited."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Kept as text too, so the entry stays readable after the user or application is deleted.
    actor_name = models.CharField(max_length=150, blank=True)
    application = models.ForeignKey(
        "connections.Application", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    application_name = models.CharField(max_length=100, blank=True)
    activity = models.CharField(max_length=80, choices=AuditActivity.choices)
    changed_fields = models.JSONField(default=list, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["application", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name or 'system'}: {self.activity}"


def record_audit(
    activity: str,
    *,
    actor=None,
    application=None,
    changed_fields: list[str] | tuple[str, ...] = (),
    detail: str = "",
) -> AuditEntry:
    """Write an audit entry. Pass field *names* only; values of secrets must never be passed here."""
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=actor_obj,
        actor_name=actor_obj.get_username() if actor_obj else (str(actor) if isinstance(actor, str) else "system"),
        application=application,
        application_name=application.name if application is not None else "",
        activity=activity,
        changed_fields=sorted(set(changed_fields)),
        detail=detail[:500],
    )


class SignInPolicy(Versioned, models.Model):
    """Console-wide sign-in settings: one row (pk 1), changed on the Sign-in page or by `manage.py local_signin`."""

    local_sign_in = models.BooleanField(
        "Local accounts may sign in",
        default=True,
        help_text="Off: only Microsoft Entra ID sign-in works. Keep a local administrator for break-glass; "
        "`python manage.py local_signin on` on the server turns local sign-in back on.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Local sign-in {'on' if self.local_sign_in else 'off'}"

    @classmethod
    def current(cls) -> SignInPolicy:
        return cls.objects.get_or_create(pk=1)[0]


class EntraAccount(models.Model):
    """The console user a Microsoft Entra ID person signs in as, found by tenant and object id (never by name:
    a user principal name can be renamed and reused)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entra_account")
    tenant_id = models.CharField(max_length=36)
    object_id = models.CharField(max_length=36)
    last_sign_in = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant_id", "object_id"], name="one_user_per_entra_object")]

    def __str__(self) -> str:
        return f"{self.user} ({self.tenant_id}/{self.object_id})"


class WorkerHeartbeat(models.Model):
    """The last sign of life of each django-q2 worker process (console/health.py), for the health endpoint."""

    worker = models.CharField(max_length=200, unique=True, help_text="host:pid")
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.worker} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
