"""The downloads are the same bytes for the same rows as before they were made faster: the JSON file, and each of the
three CSV files inside the zip (the zip itself carries the time it was made). The expected files in
tests/logs/golden/<database>/ were written by the earlier code from the rows below, awkward values included: one
set a database, as PostgreSQL's jsonb stores the keys of an object in an order of its own."""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from connections.models import Application
from provisioning.models import ProvisioningCycle, ProvisioningJob, ProvisioningLogEntry
from tests.logs.test_download_chunks import chunks_of_size

GOLDEN = Path(__file__).parent / "golden"
CSV_NAMES = (
    "ProvisioningLogs.csv",
    "ProvisioningLogs_ProvisioningSteps.csv",
    "ProvisioningLogs_ModifiedProperties.csv",
)


def guid(number: int) -> str:
    return str(uuid.UUID(int=number, version=4))


def at(second: int, micro: int = 0) -> datetime:
    return datetime(2026, 3, 1, 9, 0, second, micro, tzinfo=UTC)


def awkward_steps(number: int) -> list:
    return [
        {"name": "EntryImport", "type": "import", "status": "success",
         "description": f"Received User 'zoë{number}' change of type (Update)\nsecond line, \"quoted\"",
         "details": {"ReportableIdentifier": f"zoë{number}@contoso.com", "Count": 3, "Ratio": 0.25,
                     "Nested": {"list": [1, "two", None, True]}, "Sep": "a\u2028b 🙂"}},
        {"name": "EntrySynchronizationScoping", "type": "scoping", "status": "skipped", "description": "",
         "details": {}},
        {"name": "EntryExportUpdate", "status": "failure", "description": "no type, no details"},
        {"name": "EntryExportAdd", "type": "export", "status": "warning", "description": "details null",
         "details": None},
    ]  # fmt: skip


@pytest.fixture
def fixed_log(application):
    """Rows whose every value is fixed (ids, times), so that two versions of the code see the same rows."""
    Application.objects.filter(pk=application.pk).update(object_id=uuid.UUID(int=7, version=4), name="Zoë's UAT")
    application.refresh_from_db()
    entra = application.entra
    entra.tenant_id, entra.service_principal_id = guid(8), guid(9)
    entra.save()
    ProvisioningJob.objects.filter(pk=application.job.pk).update(job_id="SalesforceSandbox.golden.0001")
    job = ProvisioningJob.objects.get(pk=application.job.pk)
    cycle = ProvisioningCycle.objects.create(job=job, kind="incremental", status="succeeded", started_at=at(0))
    ProvisioningCycle.objects.filter(pk=cycle.pk).update(cycle_id=guid(10))
    rows = [
        {"action": "create", "status": "success", "source_upn": "ann@contoso.com", "source_display_name": "Ann",
         "target_id": "005000000000001AAA", "modified_properties": [
             {"displayName": "Username", "oldValue": None, "newValue": "ann@contoso.com.uat"},
             {"displayName": "Title", "oldValue": "", "newValue": "Clerk, \"senior\""}]},
        {"action": "update", "status": "failure", "source_upn": 'zoë,"quoted"@contoso.com',
         "source_display_name": "Zoë \"Z\" Ångström", "error_code": "SalesforceDuplicateUserName",
         "error_reason": "Username already exists,\nin another org", "error_recommendation": "Change the suffix.",
         "error_category": "failure", "steps": awkward_steps(1),
         "modified_properties": [{"displayName": "Alias"}, {"displayName": "Note", "newValue": "a\u2028b"}]},
        {"action": "disable", "status": "warning", "source_upn": "", "source_display_name": "", "target_id": "",
         "dry_run": True, "escrow_attempt": 2, "next_attempt_at": at(59, 999999), "error_reason": "only a reason"},
        {"action": "other", "status": "skipped", "source_upn": "bob@contoso.com", "source_display_name": "Bob",
         "steps": [], "modified_properties": [], "error_code": "X", "error_category": "nonServiceFailure"},
    ]  # fmt: skip
    for number, fields in enumerate(rows, start=1):
        values = {
            "job": job, "cycle": cycle, "change_id": guid(100 + number), "activity_at": at(number, 1000 * number),
            "source_id": guid(200 + number), "target_display_name": f"user{number}@contoso.com.uat",
            "steps": awkward_steps(number)[:2], "duration_ms": 17 * number,
        }  # fmt: skip
        values.update(fields)
        ProvisioningLogEntry.objects.create(**values)
    return application


def downloads(client, application) -> dict[str, bytes]:
    json_body = b"".join(
        client.get(reverse("provisioning_logs_download_json", args=[application.slug])).streaming_content
    )
    zip_body = b"".join(
        client.get(reverse("provisioning_logs_download_csv", args=[application.slug])).streaming_content
    )
    with zipfile.ZipFile(io.BytesIO(zip_body)) as archive:
        assert archive.namelist() == list(CSV_NAMES)
        files = {name: archive.read(name) for name in CSV_NAMES}
    return {"download.json": json_body, **files}


def test_downloads_are_the_same_bytes_as_before(reader_client, fixed_log):
    made = downloads(reader_client, fixed_log)
    golden = GOLDEN / connection.vendor
    if os.environ.get("WRITE_GOLDEN_DOWNLOADS"):  # how the expected files were made, by the earlier code
        golden.mkdir(parents=True, exist_ok=True)
        for name, data in made.items():
            (golden / name).write_bytes(data)
    for name, data in made.items():
        assert data == (golden / name).read_bytes(), name


@pytest.mark.parametrize("size", [1, 3])
def test_downloads_in_chunks_of_few_rows_are_the_same_bytes(reader_client, fixed_log, monkeypatch, size):
    """Every chunk boundary falls between the fixed rows: the next chunk read while one is written (PostgreSQL)."""
    chunks_of_size(monkeypatch, size)
    golden = GOLDEN / connection.vendor
    for name, data in downloads(reader_client, fixed_log).items():
        assert data == (golden / name).read_bytes(), name
