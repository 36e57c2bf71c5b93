"""A provisioning log with known rows: the world of the log page tests."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning.models import CycleStatus, ProvisioningCycle, ProvisioningLogEntry


def make_cycle(job, *, status=CycleStatus.SUCCEEDED, kind="incremental", **fields) -> ProvisioningCycle:
    now = timezone.now()
    defaults = {"started_at": now - timedelta(minutes=2)}
    if status not in (CycleStatus.RUNNING, CycleStatus.PENDING):
        defaults["finished_at"] = now
    defaults.update(fields)
    return ProvisioningCycle.objects.create(job=job, kind=kind, status=status, **defaults)


def make_entry(cycle, *, minutes_ago: float = 0, number: int = 0, **fields) -> ProvisioningLogEntry:
    upn = fields.pop("upn", f"user{number}@contoso.com")
    values = {
        "job": cycle.job,
        "cycle": cycle,
        "activity_at": timezone.now() - timedelta(minutes=minutes_ago),
        "action": "update",
        "status": "success",
        "source_id": str(uuid.uuid4()),
        "source_display_name": f"User {number}",
        "source_upn": upn,
        "target_id": f"005{number:012d}AAA",
        "target_display_name": upn + ".uat",
        "steps": [
            {
                "name": "EntryImport",
                "type": "import",
                "status": "success",
                "description": f"Received {upn}",
                "details": {"ReportableIdentifier": upn},
            },
            {
                "name": "EntryExportUpdate",
                "type": "export",
                "status": "success",
                "description": "updated",
                "details": {},
            },
        ],
        "modified_properties": [{"displayName": "Title", "oldValue": "Clerk", "newValue": f"Manager {number}"}],
        "duration_ms": 40 + number,
    }
    values.update(fields)
    return ProvisioningLogEntry.objects.create(**values)


@pytest.fixture
def job(application):
    return application.job


@pytest.fixture
def cycle(job):
    return make_cycle(job, created=3, updated=5, failed=1)
