"""The audit log: every configuration change, who made it and which fields changed (never values of secrets)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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
    UPDATE_ASSIGNMENTS = "Update application assignments", "Update application assignments"
    ALLOW_DELETES = "Allow deletes", "Allow deletes"
    REJECT_DELETES = "Reject deletes", "Reject deletes"
    QUARANTINE = "Quarantine", "Quarantine"
    TEST_CONNECTION = "Test connection", "Test connection"
    ROTATE_KEYS = "Rotate encryption keys", "Rotate encryption keys"


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
