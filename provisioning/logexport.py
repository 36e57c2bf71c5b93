"""Downloads of the provisioning log: Graph's provisioningObjectSummary as minified JSON, and Entra's three CSV
files (ProvisioningLogs, ProvisioningLogs_ProvisioningSteps, ProvisioningLogs_ModifiedProperties, joined by
change id) in one zip.

Both are generators of bytes over keyset chunks of the rows (provisioning.logquery.iter_keyset): a download of
a million rows holds one chunk in memory, never the whole set. The zip is written by the standard zipfile
module to an unseekable sink (zipfile then writes data descriptors after each member), which is drained after
every chunk.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from django.db.models import QuerySet

from connections.models import Application
from provisioning.logquery import iter_keyset_values
from provisioning.models import LogAction, LogStatus, ProvisioningCycle, ProvisioningJob

SOURCE_SYSTEM = "Microsoft Entra ID"
TARGET_SYSTEM = "Salesforce Sandbox"
INITIATOR = {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"}
FLUSH_EVERY = 500  # entries per yielded piece of JSON
ACTION_LABELS = dict(LogAction.choices)
STATUS_LABELS = dict(LogStatus.choices)

# Columns each pass reads: the CSV passes skip the JSON columns they do not write.
SCALAR_FIELDS = (
    "change_id",
    "cycle_id",
    "activity_at",
    "action",
    "status",
    "dry_run",
    "source_id",
    "source_display_name",
    "source_upn",
    "target_id",
    "target_display_name",
    "error_code",
    "error_reason",
    "error_recommendation",
    "error_category",
    "duration_ms",
    "escrow_attempt",
    "next_attempt_at",
)
ALL_FIELDS = (*SCALAR_FIELDS, "steps", "modified_properties")
STEP_FIELDS = ("change_id", "steps")
PROPERTY_FIELDS = ("change_id", "modified_properties")


class Row(dict):
    """A row read with .values(): attribute access, so the builders read like they would on a model."""

    __getattr__ = dict.__getitem__


def rows_of(entries: QuerySet, fields: tuple[str, ...]) -> Iterator[Row]:
    return (Row(values) for values in iter_keyset_values(entries, fields))


LOG_COLUMNS = (
    "Date (UTC)",
    "Id",
    "Change ID",
    "Cycle ID",
    "Job ID",
    "Action",
    "Status",
    "Source System",
    "Target System",
    "Source Identity ID",
    "Source Identity Name",
    "Source Identity UPN",
    "Target Identity ID",
    "Target Identity Name",
    "Error Code",
    "Reason",
    "Recommended Action",
    "Error Category",
    "Duration (ms)",
    "Dry Run",
    "Escrow Attempt",
    "Next Attempt (UTC)",
)
STEP_COLUMNS = ("Change ID", "Step", "Name", "Type", "Status", "Description", "Details")
PROPERTY_COLUMNS = ("Change ID", "Property", "Old Value", "New Value")
CSV_FILES = (
    "ProvisioningLogs.csv",
    "ProvisioningLogs_ProvisioningSteps.csv",
    "ProvisioningLogs_ModifiedProperties.csv",
)


def utc_text(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else ""


class ExportContext:
    """What every row of one download shares: the job, its application, and cycle pk -> cycle GUID."""

    def __init__(self, job: ProvisioningJob) -> None:
        self.job = job
        application: Application = job.application
        entra = getattr(application, "entra", None)
        self.tenant_id = getattr(entra, "tenant_id", "") or ""
        sp_id = getattr(entra, "service_principal_id", "") or ""
        self.service_principal = {"id": sp_id, "displayName": application.name}
        self.source_system = {"id": "", "displayName": SOURCE_SYSTEM, "details": {}}
        self.target_system = {
            "id": str(application.object_id),
            "displayName": TARGET_SYSTEM,
            "details": {
                "ApplicationId": str(application.object_id),
                "ServicePrincipalId": sp_id,
                "ServicePrincipalDisplayName": application.name,
            },
        }
        self.cycle_ids = dict(ProvisioningCycle.objects.filter(job=job).values_list("pk", "cycle_id"))

    def cycle_guid(self, entry: Row) -> str:
        guid = self.cycle_ids.get(entry.cycle_id)
        if guid is None:  # a cycle that started after the download did
            guid = ProvisioningCycle.objects.filter(pk=entry.cycle_id).values_list("cycle_id", flat=True).first()
            self.cycle_ids[entry.cycle_id] = guid or ""
        return guid or ""


def summary(entry: Row, ctx: ExportContext) -> dict:
    """One entry as Graph's provisioningObjectSummary (v1.0)."""
    error = None
    if entry.error_code or entry.error_reason:
        error = {
            "errorCode": entry.error_code,
            "reason": entry.error_reason,
            "additionalDetails": None,
            "recommendedAction": entry.error_recommendation,
            "errorCategory": entry.error_category or "failure",
        }
    return {
        "id": entry.change_id,
        "activityDateTime": utc_text(entry.activity_at),
        "jobId": ctx.job.job_id,
        "cycleId": ctx.cycle_guid(entry),
        "changeId": entry.change_id,
        "durationInMilliseconds": entry.duration_ms,
        "provisioningAction": entry.action,
        "initiatedBy": INITIATOR,
        "servicePrincipal": ctx.service_principal,
        "sourceSystem": ctx.source_system,
        "targetSystem": ctx.target_system,
        "sourceIdentity": {
            "id": entry.source_id,
            "displayName": entry.source_display_name,
            "identityType": "User",
            "details": {"UserPrincipalName": entry.source_upn} if entry.source_upn else {},
        },
        "targetIdentity": {
            "id": entry.target_id,
            "displayName": entry.target_display_name,
            "identityType": "User",
            "details": {},
        },
        "modifiedProperties": [
            {"displayName": p.get("displayName", ""), "oldValue": p.get("oldValue"), "newValue": p.get("newValue")}
            for p in entry.modified_properties or []
        ],
        "provisioningSteps": [
            {
                "name": s.get("name", ""),
                "description": s.get("description", ""),
                "details": s.get("details") or {},
                "provisioningStepType": s.get("type", ""),
                "status": s.get("status", ""),
            }
            for s in entry.steps or []
        ],
        "provisioningStatusInfo": {"status": entry.status, "errorInformation": error},
        "tenantId": ctx.tenant_id,
        "dryRun": entry.dry_run,
    }


def stream_json(entries: QuerySet, job: ProvisioningJob) -> Iterator[bytes]:
    """A minified JSON array of provisioningObjectSummary objects, newest first."""
    ctx = ExportContext(job)
    yield b"["
    first = True
    pieces: list[str] = []
    for entry in rows_of(entries, ALL_FIELDS):
        text = json.dumps(summary(entry, ctx), separators=(",", ":"), ensure_ascii=False)
        pieces.append(text if first else "," + text)
        first = False
        if len(pieces) >= FLUSH_EVERY:
            yield "".join(pieces).encode()
            pieces = []
    pieces.append("]")
    yield "".join(pieces).encode()


# CSV ---------------------------------------------------------------------------------------------------------


def log_row(entry: Row, ctx: ExportContext) -> list:
    return [
        utc_text(entry.activity_at),
        entry.change_id,
        entry.change_id,
        ctx.cycle_guid(entry),
        ctx.job.job_id,
        ACTION_LABELS.get(entry.action, entry.action),
        STATUS_LABELS.get(entry.status, entry.status),
        SOURCE_SYSTEM,
        TARGET_SYSTEM,
        entry.source_id,
        entry.source_display_name,
        entry.source_upn,
        entry.target_id,
        entry.target_display_name,
        entry.error_code,
        entry.error_reason,
        entry.error_recommendation,
        entry.error_category,
        entry.duration_ms,
        "true" if entry.dry_run else "false",
        entry.escrow_attempt if entry.escrow_attempt is not None else "",
        utc_text(entry.next_attempt_at),
    ]


def step_rows(entry: Row, ctx: ExportContext) -> Iterable[list]:
    for number, s in enumerate(entry.steps or [], start=1):
        details = json.dumps(s.get("details") or {}, separators=(",", ":"), ensure_ascii=False)
        yield [
            entry.change_id,
            number,
            s.get("name", ""),
            s.get("type", ""),
            s.get("status", ""),
            s.get("description", ""),
            details,
        ]


def property_rows(entry: Row, ctx: ExportContext) -> Iterable[list]:
    for p in entry.modified_properties or []:
        yield [entry.change_id, p.get("displayName", ""), p.get("oldValue") or "", p.get("newValue") or ""]


class _Sink(io.RawIOBase):
    """An unseekable file that keeps what zipfile writes until the generator hands it out."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def _csv_member(
    archive: zipfile.ZipFile,
    sink: _Sink,
    name: str,
    header: tuple[str, ...],
    entries: QuerySet,
    fields: tuple[str, ...],
    rows: Callable[[Row, ExportContext], Iterable[list]],
    ctx: ExportContext,
) -> Iterator[bytes]:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    with archive.open(name, "w", force_zip64=True) as member:
        member.write("\ufeff".encode())  # a BOM so that spreadsheet programs read UTF-8
        writer.writerow(header)
        for count, entry in enumerate(rows_of(entries, fields), start=1):
            writer.writerows(rows(entry, ctx))
            if count % FLUSH_EVERY == 0:
                member.write(text.getvalue().encode())
                text.seek(0)
                text.truncate()
                yield sink.drain()
        member.write(text.getvalue().encode())
    yield sink.drain()


def stream_csv_zip(entries: QuerySet, job: ProvisioningJob) -> Iterator[bytes]:
    """One zip holding Entra's three CSV files; each file is one pass over the filtered rows."""
    ctx = ExportContext(job)
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)
    passes = (
        (CSV_FILES[0], LOG_COLUMNS, SCALAR_FIELDS, lambda e, c: [log_row(e, c)]),
        (CSV_FILES[1], STEP_COLUMNS, STEP_FIELDS, step_rows),
        (CSV_FILES[2], PROPERTY_COLUMNS, PROPERTY_FIELDS, property_rows),
    )
    for name, header, fields, rows in passes:
        yield from _csv_member(archive, sink, name, header, entries, fields, rows, ctx)
    archive.close()
    yield sink.drain()
