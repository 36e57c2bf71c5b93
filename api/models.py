"""Personal API tokens: a person's bearer credential for the REST API, shown once and stored only as a digest."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TokenScope(models.TextChoices):
    READ = "read", "Read"
    ADMINISTER = "administer", "Administer"


class ApiToken(models.Model):
    """One personal API token. The token itself is never stored: `digest` is its SHA-256 (a token is 256 random
    bits, so a fast hash is enough and a lookup is one index probe); `prefix` is its first characters, to tell
    tokens apart on the page and in the audit log."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, such as “nightly export script”.")
    scope = models.CharField(
        max_length=20,
        choices=TokenScope.choices,
        default=TokenScope.READ,
        help_text="Read: overviews, jobs, schema and logs. Administer: also start, pause, restart, provision on "
        "demand and change the mapping (only while you hold the Application Administrator role).",
    )
    prefix = models.CharField(max_length=16, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name}, {self.user})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_usable(self) -> bool:
        return not (self.is_revoked or self.is_expired)

    @property
    def state(self) -> str:
        if self.is_revoked:
            return "Revoked"
        return "Expired" if self.is_expired else "Active"
