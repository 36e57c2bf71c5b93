"""The JSON download on PostgreSQL: the database writes the JSON text of each leaf of Graph's
provisioningObjectSummary, so that a row costs Python one str.format call and the two msgspec calls of its steps
and modified properties (logparts), not a call per leaf.

SQL_TEXT gives, per column of logcolumns.LOG_COLUMNS that GRAPH_SUMMARY names, the SQL of the same text
logcolumns.json_text makes of the column's value: PostgreSQL's to_json escapes a string as Python's encoder does
(", \\, \\b \\f \\n \\r \\t, other control characters as \\u00xx in lower case, nothing else escaped). The golden
files of tests/logs/test_download_bytes.py hold both paths to the same bytes. Leaves that depend on the job only
(its id) are written once; the steps and properties are read as text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from provisioning.logcolumns import Fixed, LogContext, Shared, compact_json, encode_string
from provisioning.logparts import graph_properties, graph_steps
from provisioning.logquery import CHUNK_SIZE, older_than
from provisioning.models import ProvisioningCycle, ProvisioningLogEntry

ENTRY = ProvisioningLogEntry._meta.db_table
CYCLE = ProvisioningCycle._meta.db_table


def _string(column: str) -> str:
    return f"to_json({column})::text"


SQL_TEXT: dict[str, str] = {
    "id": _string("change_id"),
    "change": _string("change_id"),
    # utc_text: 2026-01-31T09:15:00.000000Z
    "date": """'"' || to_char(activity_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'""",
    "cycle": f"""coalesce((SELECT to_json(c.cycle_id)::text FROM "{CYCLE}" c WHERE c.id = "{ENTRY}".cycle_id), '""')""",  # noqa: S608  (table names of the models)
    "duration": "duration_ms::text",
    "action": _string("action"),
    "status": _string("status"),
    "source_id": _string("source_id"),
    "source_name": _string("source_display_name"),
    "source_details": """CASE WHEN source_upn <> '' THEN '{"UserPrincipalName":' || to_json(source_upn)::text || '}'
                         ELSE '{}' END""",
    "target_id": _string("target_id"),
    "target_name": _string("target_display_name"),
    # _error_information: null without an error, errorCategory "failure" when none is stored
    "error": """CASE WHEN error_code <> '' OR error_reason <> '' THEN
                  '{"errorCode":' || to_json(error_code)::text || ',"reason":' || to_json(error_reason)::text
                  || ',"additionalDetails":null,"recommendedAction":' || to_json(error_recommendation)::text
                  || ',"errorCategory":' || to_json(CASE WHEN error_category <> '' THEN error_category
                                                      ELSE 'failure' END)::text || '}'
                ELSE 'null' END""",
    "dry_run": "CASE WHEN dry_run THEN 'true' ELSE 'false' END",
}  # fmt: skip
# Leaves whose value is the same for every row of the download.
FROM_CONTEXT: dict[str, Callable[[LogContext], Any]] = {"job": lambda ctx: ctx.job.job_id}
RAW = {"properties": "modified_properties", "steps": "steps"}


def _compile(shape: Mapping, ctx: LogContext, shared: Callable[[Any], Any]) -> tuple[str, list[str], list[str]]:
    """(a str.format template, the SQL leaves in their order, the raw fields in their order). The template's fields
    are numbered as the arguments come: the SQL leaves, the row's id (unused), the raw fields as stored (unused),
    then their Graph texts."""
    literals: list[str] = [""]
    kinds: list[tuple[str, str]] = []  # ("sql", key) or ("raw", key) in shape order

    def walk(level: Mapping) -> None:
        literals[-1] += "{"
        for number, (key, leaf) in enumerate(level.items()):
            literals[-1] += ("," if number else "") + encode_string(key) + ":"
            if isinstance(leaf, Mapping):
                walk(leaf)
            elif isinstance(leaf, str) and leaf in FROM_CONTEXT:
                literals[-1] += compact_json(FROM_CONTEXT[leaf](ctx))
            elif isinstance(leaf, str):
                kinds.append(("raw" if leaf in RAW else "sql", leaf))
                literals.append("")
            else:
                literals[-1] += compact_json(shared(leaf))
        literals[-1] += "}"

    walk(shape)
    sql = [key for kind, key in kinds if kind == "sql"]
    raw = [key for kind, key in kinds if kind == "raw"]
    fields = []
    for kind, key in kinds:
        fields.append(sql.index(key) if kind == "sql" else len(sql) + 1 + len(raw) + raw.index(key))
    escaped = [literal.replace("{", "{{").replace("}", "}}") for literal in literals]
    template = escaped[0] + "".join(
        f"{{{field}}}" + literal for field, literal in zip(fields, escaped[1:], strict=True)
    )
    return template, sql, raw


def stream_json_text(entries: QuerySet, shape: Mapping, ctx: LogContext, slow: Mapping[str, Callable]) -> Iterator[str]:
    """The JSON text of each chunk of entries (rows joined by commas), newest first, in keyset chunks."""

    def shared(leaf: Any) -> Any:
        return (
            getattr(ctx, leaf.attribute)
            if isinstance(leaf, Shared)
            else leaf.value
            if isinstance(leaf, Fixed)
            else leaf
        )

    template, sql_keys, raw_keys = _compile(shape, ctx, shared)
    render = template.format
    names = [f"_t{n}" for n in range(len(sql_keys))]
    raw_names = [f"_r{n}" for n in range(len(raw_keys))]
    expressions = [*(SQL_TEXT[key] for key in sql_keys), *(f"{RAW[key]}::text" for key in raw_keys)]
    # Constants of this module and field names only: nothing of the request reaches this SQL.
    annotations = {name: RawSQL(sql, ()) for name, sql in zip([*names, *raw_names], expressions, strict=True)}  # noqa: S611
    makers = [(graph_steps if RAW[key] == "steps" else graph_properties, slow[key]) for key in raw_keys]
    (first, first_slow), (second, second_slow) = makers  # the shape names both lists
    query = entries.annotate(**annotations).order_by("-activity_at", "-id")
    columns = (*names, "id", *raw_names)
    cursor = None
    while True:
        chunk = older_than(query, cursor) if cursor else query
        rows = list(chunk.values_list(*columns)[:CHUNK_SIZE])
        if rows:
            yield ",".join([render(*row, first(row[-2], first_slow), second(row[-1], second_slow)) for row in rows])
        if len(rows) < CHUNK_SIZE:
            return
        last = rows[-1][len(names)]
        moment = ProvisioningLogEntry.objects.filter(pk=last).values_list("activity_at", flat=True).first()
        if moment is None:  # purged meanwhile by retention, and with it every older row
            return
        cursor = (moment, last)
