"""The JSON download on PostgreSQL: the database writes the JSON text of each leaf of Graph's
provisioningObjectSummary, so that a row costs Python one %-format and the two msgspec calls of its steps
and modified properties (logparts), not a call per leaf.

SQL_TEXT gives, per column of logcolumns.LOG_COLUMNS that GRAPH_SUMMARY names, the SQL of the same text
logcolumns.json_text makes of the column's value: PostgreSQL's to_json escapes a string as Python's encoder does
(", \\, \\b \\f \\n \\r \\t, other control characters as \\u00xx in lower case, nothing else escaped). The golden
files of tests/logs/test_download_bytes.py hold both paths to the same bytes. Leaves that depend on the job only
(its id) are written once; the steps and properties are read as text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

from django.db.models import Case, CharField, F, Func, QuerySet, TextField, Value, When
from django.db.models.expressions import RawSQL

from provisioning import logahead
from provisioning.logahead import read_ahead
from provisioning.logcolumns import LOG_COLUMNS, Fixed, Label, LogContext, Shared, compact_json, encode_string
from provisioning.logparts import graph_properties_utf8, graph_steps_utf8
from provisioning.logquery import CHUNK_SIZE, older_than
from provisioning.models import ProvisioningLogEntry


def _string(column: str) -> str:
    return f"to_json({column})::text"


SQL_TEXT: dict[str, str] = {
    "id": _string("change_id"),
    "change": _string("change_id"),
    # utc_text: 2026-01-31T09:15:00.000000Z
    "date": """'"' || to_char(activity_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'""",
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
# Leaves Python writes from a column read as it is stored: the two lists (logparts) and the cycle's GUID (one
# dictionary lookup a row; a join would cost the database more).
RAW = {"properties": "modified_properties::text", "steps": "steps::text", "cycle": "cycle_id"}


class _CycleTexts(dict):
    """cycle pk -> the JSON text of its GUID (UTF-8), the job's cycles read once (LogContext), a newer one when met."""

    def __init__(self, ctx: LogContext) -> None:
        super().__init__({pk: encode_string(guid or "").encode() for pk, guid in ctx.cycle_ids.items()})
        self.ctx = ctx

    def __missing__(self, pk: int) -> bytes:
        text = self[pk] = encode_string(self.ctx.cycle_guid(SimpleNamespace(cycle_id=pk))).encode()
        return text


def _compile(
    shape: Mapping, ctx: LogContext, shared: Callable[[Any], Any]
) -> tuple[str, list[int], list[str], list[str]]:
    """(a %-format template, the argument of each of its fields, the SQL of the leaves in their order, the raw leaves
    in their order). Arguments are numbered as they come: the SQL leaves (a column read twice is selected once), the
    row's id (unused), the raw leaves as stored (unused), then their JSON texts. (A %-format of the arguments picked
    by an itemgetter costs about half of str.format on this long template with its many escaped braces.)"""
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
    # SQL leaves next to each other, a key or two apart, are one column: PostgreSQL joins their text with the short
    # literal between them, and the driver makes one string a row where it made several.
    parts: list[tuple[str, str]] = []  # ("sql", expression) or ("raw", key), in shape order
    between = [literals[0]]  # the literal before each part, and the last one
    for (kind, key), after in zip(kinds, literals[1:], strict=True):
        if kind == "sql" and parts and parts[-1][0] == "sql" and _inline(between[-1]):
            parts[-1] = ("sql", f"{parts[-1][1]} || '{between[-1]}' || ({SQL_TEXT[key]})")
            between[-1] = after
        else:
            parts.append((kind, f"({SQL_TEXT[key]})" if kind == "sql" else key))
            between.append(after)
    sql = list(dict.fromkeys(value for kind, value in parts if kind == "sql"))
    raw = [key for kind, key in parts if kind == "raw"]
    fields = []
    for kind, value in parts:
        fields.append(sql.index(value) if kind == "sql" else len(sql) + 1 + len(raw) + raw.index(value))
    template = "%s".join(literal.replace("%", "%%") for literal in between)
    return template, fields, sql, raw


def _inline(literal: str) -> bool:
    """Whether a literal of the template goes into the SQL as it is: short (it is sent a row), and nothing to quote."""
    return len(literal) <= 64 and not any(character in literal for character in "'%\\")


def stream_json_text(
    entries: QuerySet, shape: Mapping, ctx: LogContext, slow: Mapping[str, Callable]
) -> Iterator[bytes]:
    """The entries' JSON objects, UTF-8, joined by commas, newest first, a keyset chunk at a time (every chunk after
    the first starts with its comma). Made as bytes throughout: msgspec writes the steps and properties as UTF-8,
    and a %-format of bytes costs far less than one of text of mixed widths followed by encoding the whole."""

    def shared(leaf: Any) -> Any:
        return (
            getattr(ctx, leaf.attribute)
            if isinstance(leaf, Shared)
            else leaf.value
            if isinstance(leaf, Fixed)
            else leaf
        )

    text_template, fields, sql, raw_keys = _compile(shape, ctx, shared)
    template, arguments, encode, count = text_template.encode(), itemgetter(*fields), str.encode, len(sql)
    names = [f"_t{n}" for n in range(len(sql))]
    raw_names = [f"_r{n}" for n in range(len(raw_keys))]
    expressions = [*sql, *(RAW[key] for key in raw_keys)]
    # Constants of this module, field names and the template's short literals (no quote, percent sign or backslash in
    # them, _inline): nothing of the request reaches this SQL.
    annotations = {name: RawSQL(sql, ()) for name, sql in zip([*names, *raw_names], expressions, strict=True)}  # noqa: S611
    cycles = _CycleTexts(ctx)
    makers = {
        "steps": lambda text: graph_steps_utf8(text, slow["steps"]),
        "properties": lambda text: graph_properties_utf8(text, slow["properties"]),
        "cycle": cycles.__getitem__,
    }
    first, second, third = (makers[key] for key in raw_keys)  # the shape names each once
    query = entries.annotate(**annotations).order_by("-activity_at", "-id")
    columns = (*names, "id", *raw_names)
    chunks = keyset_rows(query, columns, len(names))
    lead: list[bytes] = []  # before the first chunk nothing, then an empty piece: the join's leading comma
    with closing(read_ahead(chunks) if logahead.OVERLAP else chunks) as chunks:
        for rows in chunks:
            yield b",".join(
                lead
                + [
                    template % arguments((*map(encode, row[:count]), *row[count:], first(row[-3]), second(row[-2]),
                                          third(row[-1])))
                    for row in rows
                ]
            )  # fmt: skip
            lead = [b""]


def keyset_rows(query: QuerySet, columns: tuple[str, ...], id_at: int) -> Iterator[list[tuple]]:
    """The rows of `query` (ordered newest first) as tuples of `columns`, a keyset chunk at a time; row[id_at] is
    the id."""
    cursor = None
    while True:
        chunk = older_than(query, cursor) if cursor else query
        rows = list(chunk.values_list(*columns)[:CHUNK_SIZE])
        if rows:
            yield rows
        if len(rows) < CHUNK_SIZE:
            return
        last = rows[-1][id_at]
        moment = ProvisioningLogEntry.objects.filter(pk=last).values_list("activity_at", flat=True).first()
        if moment is None:  # purged meanwhile by retention, and with it every older row
            return
        cursor = (moment, last)


# The CSV files on PostgreSQL: the database hands over each row's cells of ProvisioningLogs.csv as the csv module
# writes them, all text ('' for NULL), and the stored steps and properties as text, so that one read of the rows
# makes the three files (logexport).
ENTRY = ProvisioningLogEntry._meta.db_table
UTC_TEXT = "COALESCE(to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), '')"


def _csv_cells(ctx: LogContext) -> dict[str, Any]:
    """column key -> the expression of its cell (logexport._cell's value, as text)."""

    def label(key: str, field: str) -> Case:
        labels = LOG_COLUMNS[key].text
        assert isinstance(labels, Label)
        resolved = labels.resolved()
        return Case(
            *(When(**{field: value}, then=Value(resolved(value))) for value in labels.labels),
            default=F(field),
            output_field=CharField(),
        )

    return {
        # Qualified: the cycle's GUID joins the cycles' table.
        "date": RawSQL(UTC_TEXT.format(f'"{ENTRY}".activity_at'), ()),  # noqa: S611  (constants)
        "next_attempt": RawSQL(UTC_TEXT.format(f'"{ENTRY}".next_attempt_at'), ()),  # noqa: S611  (constants)
        "cycle": F("cycle__cycle_id"),
        "job": Value(ctx.job.job_id, output_field=CharField()),
        "action": label("action", "action"),
        "status": label("status", "status"),
        "source_system": Value(LOG_COLUMNS["source_system"].value(None, ctx), output_field=CharField()),
        "target_system": Value(LOG_COLUMNS["target_system"].value(None, ctx), output_field=CharField()),
        "dry_run": Case(When(dry_run=True, then=Value("true")), default=Value("false"), output_field=CharField()),
    }


def _as_text(name: str) -> Any:
    """A field written as stored: as it is when it is text that cannot be NULL, else its text ('' for NULL)."""
    field = ProvisioningLogEntry._meta.get_field(name)
    if isinstance(field, CharField | TextField) and not field.null:
        return F(name)
    return RawSQL(f"""COALESCE("{ENTRY}"."{field.column}"::text, '')""", ())  # noqa: S611  (a field's column)


def _plain_lines(text: str, count: int, width: int) -> bool:
    """Whether `count` lines of `width` cells joined by commas (CRLF after each) hold no comma, quote, CR or LF in a
    cell: then each is the line the csv module writes."""
    return (
        text.count(",") == (width - 1) * count and '"' not in text
        and text.count("\n") == count and text.count("\r") == count
    )  # fmt: skip


def csv_row_chunks(
    entries: QuerySet, keys: tuple[str, ...], ctx: LogContext, write: Callable[[list[tuple]], str]
) -> Iterator[tuple[str, list[tuple]]]:
    """(ProvisioningLogs.csv's text of a chunk of rows, each row's (change id, steps' text, properties' text)), a
    chunk at a time, newest first. PostgreSQL joins a row's cells (the columns `keys`) with commas; a line with a
    cell to quote is made again by write(rows of cells) from its cells, read apart (a row purged meanwhile is left
    out of all three files)."""
    cells = _csv_cells(ctx)
    expressions = {f"_c_{key}": cells[key] if key in cells else _as_text(LOG_COLUMNS[key].field) for key in keys}
    line = Func(*expressions.values(), template="concat_ws(',', %(expressions)s)", output_field=TextField())
    query = entries.annotate(
        _line=line,
        _steps=RawSQL(f'"{ENTRY}".steps::text', ()),  # noqa: S611  (constants)
        _properties=RawSQL(f'"{ENTRY}".modified_properties::text', ()),  # noqa: S611  (constants)
    ).order_by("-activity_at", "-id")
    width = len(keys)
    for rows in keyset_rows(query, ("_line", "change_id", "_steps", "_properties", "id"), 4):
        text = "\r\n".join([row[0] for row in rows]) + "\r\n"
        if _plain_lines(text, len(rows), width):
            yield text, [row[1:4] for row in rows]
            continue
        apart = [row[4] for row in rows if not _plain_lines(row[0] + "\r\n", 1, width)]
        read = entries.annotate(**expressions).filter(pk__in=apart).values_list(*expressions, "id")
        cells_of = {row[-1]: row[:-1] for row in read}
        kept = [row for row in rows if row[4] not in apart or row[4] in cells_of]
        text = "".join([write([cells_of[row[4]]]) if row[4] in cells_of else row[0] + "\r\n" for row in kept])
        yield text, [row[1:4] for row in kept]
