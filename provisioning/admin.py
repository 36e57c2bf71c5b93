"""Admin site: the provisioning log is readable there but never editable (entries are system-generated)."""

from __future__ import annotations

from django.contrib import admin

from provisioning.models import ProvisioningLogEntry


@admin.register(ProvisioningLogEntry)
class ProvisioningLogEntryAdmin(admin.ModelAdmin):
    list_display = ("activity_at", "source_upn", "action", "status", "change_id")
    list_filter = ("status", "action")
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
