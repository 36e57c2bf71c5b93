"""The cycle's log writer writes each entry as its row directly (engine/log.py's log_row, COPY on PostgreSQL): the
rows read back as the entries `entry_for` builds and the ORM saves, cut to their columns' lengths the same way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mappings.expressions import Redacted
from mappings.target_types import redaction_marker
from provisioning.engine.items import AccessChange, ItemError, Plan, PlanKind, WorkItem
from provisioning.engine.log import LogWriter, entry_for, shown
from provisioning.engine.record import stored
from provisioning.models import CycleKind, ProvisioningCycle, ProvisioningLogEntry

pytestmark = pytest.mark.django_db
SKIPPED = {"id", "change_id", "cycle", "activity_at", "duration_ms"}


def _items() -> list[WorkItem]:
    created = WorkItem("id-1", upn="zoë@example.com", display_name="Zoë\tÖ'Neil\n\\", user={}, in_scope=True,
                       target_id="005000000000001AAA", target_name="zoe@example.com.sandbox")  # fmt: skip
    created.plan = Plan(PlanKind.CREATE, {"FirstName": "Zoë", "IsActive": True, "Tags": ["a", "b"]}, reason="new")
    failed = WorkItem("id-2", upn="x" * 300, display_name="", user={}, in_scope=True, escrow_attempt=2,
                      next_attempt_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))  # fmt: skip
    failed.plan = Plan(PlanKind.UPDATE, {"Title": "T"}, {"Title": None})
    failed.fail(ItemError("E" * 150, 'refused: "quoted"', "try again", category="x" * 40))
    access = WorkItem("id-3", upn="a@example.com", user={}, in_scope=True, target_id="005000000000003AAA")
    access.plan = Plan(PlanKind.UNCHANGED)
    access.access_changes = [
        AccessChange("grant", "permission_set", "0PS1", "Sales", "Permission set", roles=("R",), record_id="0Pa1"),
        AccessChange("revoke", "group", "00G1", "Old", "Public group", ok=False, code="DENIED", message="no"),
    ]
    skipped = WorkItem("id-4", user={}, warnings=["Manager not found", "twice"])
    skipped.plan = Plan(PlanKind.SKIP, reason="out of scope")
    return [created, failed, access, skipped]


def _rows(cycle: ProvisioningCycle) -> list[dict]:
    entries = ProvisioningLogEntry.objects.filter(cycle=cycle).order_by("source_id").values()
    return [{k: v for k, v in entry.items() if k not in SKIPPED and k != "cycle_id"} for entry in entries]


@pytest.mark.parametrize("dry_run", [False, True])
def test_log_writer_rows_are_the_entries_the_orm_saves(application, dry_run):
    job = application.job
    written = ProvisioningCycle.objects.create(job=job, kind=CycleKind.INITIAL, dry_run=dry_run)
    saved = ProvisioningCycle.objects.create(job=job, kind=CycleKind.INITIAL, dry_run=dry_run)
    redacted = frozenset({"FirstName"})

    writer = LogWriter(written, redacted_targets=redacted)
    for item in _items():
        writer.add(item)
    assert writer.flush() == 4
    assert writer.flush() == 0
    for item in _items():
        entry_for(item, saved, redacted).save()

    assert _rows(written) == _rows(saved)
    rows = _rows(written)
    assert len(rows[1]["source_upn"]) == 256 and len(rows[1]["error_code"]) == 100
    assert rows[0]["modified_properties"][0] == {"displayName": "FirstName", "oldValue": "", "newValue": "[Redact]"}
    entries = ProvisioningLogEntry.objects.filter(cycle=written)
    assert len({entry.change_id for entry in entries}) == 4
    assert all(entry.job_id == job.pk and entry.activity_at for entry in entries)


def test_a_redacted_value_is_never_shown_or_stored_as_it_is():
    secret = Redacted("hunter2")
    assert shown(secret) == "[Redact]" and shown([secret, "b"]) == "[Redact];b"
    assert stored(secret) == redaction_marker("hunter2") and "hunter2" not in stored(secret)
    assert (shown("plain"), shown(None), shown(True), shown(3), shown(("a", 1))) == ("plain", "", "True", "3", "a;1")
    assert (stored("plain"), stored(None), stored(("a", 1)), stored(2.5)) == ("plain", None, ["a", 1], 2.5)
