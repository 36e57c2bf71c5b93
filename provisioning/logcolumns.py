"""The columns of the provisioning log, declared once: the list page, the detail page, the CSV files and the JSON
download all read them.

LOG_COLUMNS holds every attribute of an entry as a Column (console.lists): its plain value, its spreadsheet
text and its page cell. Each view of the log then names the columns it shows, in its own order: PAGE_COLUMNS
(offered on the list page), DETAIL_COLUMNS (the Summary tab), CSV_COLUMNS (Entra's ProvisioningLogs.csv) and
GRAPH_SUMMARY (Microsoft Graph's provisioningObjectSummary, whose leaves name columns). Steps and modified
properties are lists inside an entry, with columns of their own (STEP_COLUMNS, PROPERTY_COLUMNS).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from json.encoder import encode_basestring
from operator import attrgetter as attrgetter_
from typing import Any, NamedTuple

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from connections.models import Application
from console.choices import badge_html
from console.lists import Column, attrgetter, time_html
from provisioning.engine.log import SOURCE_SYSTEM, TARGET_SYSTEM
from provisioning.models import LogAction, LogStatus, ProvisioningCycle, ProvisioningJob

INITIATOR = {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"}
DRY_RUN_BADGE = mark_safe(' <span class="badge badge-grey">Dry run</span>')  # noqa: S308  (a constant)


def utc_text(moment: datetime | None) -> str:
    """2026-01-31T09:15:00.000000Z (isoformat, a third of strftime's time; the same text)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z" if moment else ""


class LogContext:
    """What every row of one page or download shares: the job, its application, and cycle pk -> cycle GUID.

    `cycles` preloads the GUIDs a page needs; without it every cycle of the job is read once (a download)."""

    def __init__(self, job: ProvisioningJob, *, cycles: dict[int, str] | None = None, logs_url: str = "") -> None:
        self.job = job
        self.logs_url = logs_url
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
        if cycles is None:
            cycles = dict(ProvisioningCycle.objects.filter(job=job).values_list("pk", "cycle_id"))
        self.cycle_ids = cycles
        self.compiled: dict[str, Callable[[Any], dict]] = {}  # Graph shapes built for this context

    def cycle_guid(self, entry: Any) -> str:
        guid = self.cycle_ids.get(entry.cycle_id)
        if guid is None:  # a cycle that started after the download did
            guid = ProvisioningCycle.objects.filter(pk=entry.cycle_id).values_list("cycle_id", flat=True).first()
            self.cycle_ids[entry.cycle_id] = guid or ""
        return guid or ""


def _identity(entry: Any, ctx: LogContext) -> SafeString:
    return format_html(
        '{}<br><small class="muted"><code>{}</code></small>',
        entry.source_display_name or entry.source_upn,
        entry.source_id,
    )


def _action_badge(entry: Any, ctx: LogContext) -> SafeString:
    return format_html("{}{}", badge_html(entry.action, LogAction), DRY_RUN_BADGE if entry.dry_run else "")


def _cycle_link(entry: Any, ctx: LogContext) -> SafeString:
    guid = ctx.cycle_guid(entry)
    if not ctx.logs_url:
        return format_html("<code>{}</code>", guid)
    return format_html('<a href="{}?cycle={}"><code>{}</code></a>', ctx.logs_url, guid, guid)


def _error_information(entry: Any, ctx: LogContext) -> dict | None:
    """Graph's errorInformation: null for an entry without an error."""
    if not (entry.error_code or entry.error_reason):
        return None
    return {
        "errorCode": entry.error_code,
        "reason": entry.error_reason,
        "additionalDetails": None,
        "recommendedAction": entry.error_recommendation,
        "errorCategory": entry.error_category or "failure",
    }


class Part(NamedTuple):
    """One step or modified property of an entry: the rows of the second and third CSV files."""

    entry: Any
    number: int
    item: dict


def parts(entry: Any, name: str) -> list[Part]:
    return [Part(entry, number, item) for number, item in enumerate(getattr(entry, name) or [], start=1)]


class Item(NamedTuple):
    """value(part, ctx) of one key of a step or modified property, `default` when it is missing (and, with
    `or_default`, when it is empty). Downloads read it from the item itself: Item.read."""

    key: str
    default: Any = ""
    or_default: bool = False

    def __call__(self, part: Part, ctx: LogContext) -> Any:
        return self.read(part.item)

    def read(self, data: dict) -> Any:
        return (data.get(self.key) or self.default) if self.or_default else data.get(self.key, self.default)


def item(key: str, default: Any = "") -> Item:
    return Item(key, default)


# One encoder for every value of a download: json.dumps with these options makes a new one each call.
compact_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
encode_string = encode_basestring  # what that encoder makes of a str (the C function)


def _compact_json(value: Any) -> str:
    return "{}" if value.__class__ is dict and not value else compact_json(value)


STEP_COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("change", "Change ID", lambda part, ctx: part.entry.change_id),
        Column("number", "Step", lambda part, ctx: part.number),
        Column("name", "Name", item("name")),
        Column("type", "Type", item("type")),
        Column("status", "Status", item("status")),
        Column("description", "Description", item("description")),
        Column("details", "Details", Item("details", {}, or_default=True), text=_compact_json),
    )
}
PROPERTY_COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("change", "Change ID", lambda part, ctx: part.entry.change_id),
        Column("name", "Property", item("displayName")),
        Column("old", "Old value", item("oldValue", None), text=lambda value: value or "", export="Old Value"),
        Column("new", "New value", item("newValue", None), text=lambda value: value or "", export="New Value"),
    )
}

# Graph's provisioningStep and modifiedProperty, their leaves named by column.
GRAPH_STEP = {"name": "name", "description": "description", "details": "details", "provisioningStepType": "type",
              "status": "status"}  # fmt: skip
GRAPH_PROPERTY = {"displayName": "name", "oldValue": "old", "newValue": "new"}


class Shared(NamedTuple):
    """A leaf of a Graph shape that every entry of a download shares: an attribute of the LogContext."""

    attribute: str


class Fixed(NamedTuple):
    value: Any


def compile_shape(shape: Mapping, columns: Mapping[str, Column], ctx: LogContext) -> Callable[[Any], dict]:
    """A function row -> the JSON object `shape` describes: each leaf names a column, or is Shared or Fixed.

    Rows are model instances or a download's rows (mappings with attribute access): a column that shows a field
    as stored is read with one attrgetter."""
    keys: list[str] = []
    getters: list[Callable[[Any], Any]] = []
    for key, leaf in shape.items():
        keys.append(key)
        if isinstance(leaf, Mapping):
            getters.append(compile_shape(leaf, columns, ctx))
        elif isinstance(leaf, str):
            column = columns[leaf]
            value = column.value
            getters.append(attrgetter_(column.field) if column.field else lambda row, value=value: value(row, ctx))
        else:
            constant = getattr(ctx, leaf.attribute) if isinstance(leaf, Shared) else leaf.value
            getters.append(lambda row, constant=constant: constant)
    names = tuple(keys)
    return lambda row: dict(zip(names, [get(row) for get in getters], strict=True))


def compile_shape_text(
    shape: Mapping,
    columns: Mapping[str, Column],
    ctx: LogContext,
    texts: Mapping[str, Callable[[Any], str]] | None = None,
) -> Callable[[Any], str]:
    """A function row -> the compact JSON text of compile_shape's object, made without building the object: the
    keys and every Shared or Fixed leaf are encoded once, a string value with the encoder's own string escaping.
    `texts` gives the JSON text of some leaves (by column) made otherwise (provisioning.logparts).
    Rows are a download's (mappings). The text is the same as compact_json(compile_shape(...)(row)): the same bytes
    as before (tests/logs/test_download_bytes.py)."""
    texts = texts or {}
    literals: list[str] = [""]
    getters: list[Callable[[Any], str]] = []

    def walk(level: Mapping) -> None:
        literals[-1] += "{"
        for number, (key, leaf) in enumerate(level.items()):
            literals[-1] += ("," if number else "") + encode_string(key) + ":"
            if isinstance(leaf, Mapping):
                walk(leaf)
            elif isinstance(leaf, str):
                getters.append(texts.get(leaf) or _text_of(columns[leaf], ctx))
                literals.append("")
            else:
                literals[-1] += compact_json(getattr(ctx, leaf.attribute) if isinstance(leaf, Shared) else leaf.value)
        literals[-1] += "}"

    walk(shape)
    template = "{}".join(literal.replace("{", "{{").replace("}", "}}") for literal in literals)
    render = template.format
    return lambda row: render(*[get(row) for get in getters])


def json_text(value: Any) -> str:
    """compact_json(value), the common scalars without the encoder's per-call set-up (the same text: an int as
    int.__repr__, as the encoder writes it)."""
    kind = value.__class__
    if kind is str:
        return encode_string(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    return compact_json(value)


def _text_of(column: Column, ctx: LogContext) -> Callable[[Any], str]:
    """row -> the JSON text of the column's value."""
    if column.field:
        return lambda row, name=column.field: json_text(row[name])
    read = column.value
    return lambda row: json_text(read(row, ctx))


def compile_item_shape(shape: Mapping, columns: Mapping[str, Column]) -> Callable[[dict], dict]:
    """A function item -> the JSON object `shape` describes, for a step or modified property: every leaf names a
    column whose value is an Item, read from the stored item itself."""
    readers = [(key, columns[leaf].value) for key, leaf in shape.items()]
    if not all(isinstance(reader, Item) for _, reader in readers):
        raise TypeError("every leaf of an item shape reads an Item")
    spec = [(key, *reader) for key, reader in readers]  # as Item.read, without a call per key
    return lambda data: {
        key: (data.get(name) or default) if or_default else data.get(name, default)
        for key, name, default, or_default in spec
    }


def _graph_list(name: str, columns: Mapping[str, Column], shape: Mapping) -> Callable[[Any, LogContext], list]:
    def value(entry: Any, ctx: LogContext) -> list[dict]:
        build = ctx.compiled.get(name)
        if build is None:
            build = ctx.compiled[name] = compile_item_shape(shape, columns)
        return [build(data) for data in getattr(entry, name) or []]

    return value


class Label:
    """text(value) of a choice: its label. `resolved()` gives the labels as plain strings in the active language,
    for a download that writes one per row (a lazy label costs a translation lookup every time it is written)."""

    def __init__(self, choices) -> None:
        self.labels = dict(choices.choices)

    def __call__(self, value: str) -> str:
        return self.labels.get(value, value)

    def resolved(self) -> Callable[[str], str]:
        labels = {value: str(text) for value, text in self.labels.items()}
        return lambda value: labels.get(value, value)


def label(choices) -> Label:
    return Label(choices)


CODE = "<code>{}</code>"

LOG_COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("date", "Date", lambda e, ctx: utc_text(e.activity_at), ("activity_at",),
               html=lambda e, ctx: time_html(e.activity_at), export="Date (UTC)"),
        Column("identity", "Identity", lambda e, ctx: e.source_display_name or e.source_upn,
               ("source_display_name", "source_upn", "source_id"), html=_identity),
        Column.of("id", "Id", "change_id", html=CODE),
        Column.of("change", "Change ID", "change_id", html=CODE),
        Column("cycle", "Cycle ID", lambda e, ctx: ctx.cycle_guid(e), ("cycle_id",), html=_cycle_link),
        Column("job", "Job ID", lambda e, ctx: ctx.job.job_id, html=CODE),
        Column("action", "Action", attrgetter("action"), ("action", "dry_run"), text=label(LogAction),
               html=_action_badge),
        Column.of("status", "Status", "status", text=label(LogStatus),
                  html=lambda e, ctx: badge_html(e.status, LogStatus)),
        Column("source_system", "Source System", lambda e, ctx: SOURCE_SYSTEM),
        Column("target_system", "Target System", lambda e, ctx: TARGET_SYSTEM),
        Column.of("source_id", "Entra object id", "source_id", html=CODE, export="Source Identity ID"),
        Column.of("source_name", "Display name", "source_display_name", export="Source Identity Name"),
        Column.of("upn", "User principal name", "source_upn", export="Source Identity UPN"),
        Column("source_details", "Source details",
               lambda e, ctx: {"UserPrincipalName": e.source_upn} if e.source_upn else {}, ("source_upn",)),
        Column.of("target_id", "Salesforce user id", "target_id", html=CODE, export="Target Identity ID"),
        Column.of("target_name", "Salesforce username", "target_display_name", export="Target Identity Name"),
        Column.of("error_code", "Error code", "error_code", export="Error Code"),
        Column.of("reason", "Reason", "error_reason"),
        Column.of("recommendation", "Recommended action", "error_recommendation", export="Recommended Action"),
        Column.of("error_category", "Error category", "error_category", export="Error Category"),
        Column("error", "Error", _error_information,
               ("error_code", "error_reason", "error_recommendation", "error_category")),
        Column.of("duration", "Duration (ms)", "duration_ms"),
        Column.of("dry_run", "Dry run", "dry_run", text=lambda v: "true" if v else "false", export="Dry Run"),
        Column.of("escrow_attempt", "Escrow attempt", "escrow_attempt", export="Escrow Attempt"),
        Column("next_attempt", "Next attempt", lambda e, ctx: utc_text(e.next_attempt_at), ("next_attempt_at",),
               export="Next Attempt (UTC)"),
        Column("steps", "Steps", _graph_list("steps", STEP_COLUMNS, GRAPH_STEP), ("steps",)),
        Column("properties", "Modified Properties",
               _graph_list("modified_properties", PROPERTY_COLUMNS, GRAPH_PROPERTY), ("modified_properties",)),
    )
}  # fmt: skip

# The columns the list page offers, in its order; the first ones are Entra's defaults.
PAGE_COLUMNS: dict[str, str] = {
    key: LOG_COLUMNS[key].heading
    for key in ("date", "identity", "action", "source_system", "target_system", "status", "upn", "target_id",
                "cycle", "change", "error_code", "duration")
}  # fmt: skip
DEFAULT_COLUMNS = ("date", "identity", "action", "source_system", "target_system", "status")
# The Summary tab of an entry.
DETAIL_COLUMNS = ("date", "action", "status", "source_system", "identity", "upn", "target_system", "target_name",
                  "target_id", "change", "cycle", "job", "duration")  # fmt: skip
# Entra's ProvisioningLogs.csv, in its order.
CSV_COLUMNS = ("date", "id", "change", "cycle", "job", "action", "status", "source_system", "target_system",
               "source_id", "source_name", "upn", "target_id", "target_name", "error_code", "reason",
               "recommendation", "error_category", "duration", "dry_run", "escrow_attempt", "next_attempt")  # fmt: skip
# Graph's provisioningObjectSummary (v1.0), in its order.
GRAPH_SUMMARY = {
    "id": "id",
    "activityDateTime": "date",
    "jobId": "job",
    "cycleId": "cycle",
    "changeId": "change",
    "durationInMilliseconds": "duration",
    "provisioningAction": "action",
    "initiatedBy": Fixed(INITIATOR),
    "servicePrincipal": Shared("service_principal"),
    "sourceSystem": Shared("source_system"),
    "targetSystem": Shared("target_system"),
    "sourceIdentity": {"id": "source_id", "displayName": "source_name", "identityType": Fixed("User"),
                       "details": "source_details"},
    "targetIdentity": {"id": "target_id", "displayName": "target_name", "identityType": Fixed("User"),
                       "details": Fixed({})},
    "modifiedProperties": "properties",
    "provisioningSteps": "steps",
    "provisioningStatusInfo": {"status": "status", "errorInformation": "error"},
    "tenantId": Shared("tenant_id"),
    "dryRun": "dry_run",
}  # fmt: skip


def cells(entry: Any, keys: tuple[str, ...] | list[str], ctx: LogContext) -> list[tuple[str, str]]:
    """(heading, page cell) of the named columns for one entry."""
    return [(LOG_COLUMNS[key].heading, LOG_COLUMNS[key].cell(entry, ctx)) for key in keys]
