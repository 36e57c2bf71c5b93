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
from contextlib import closing
from types import SimpleNamespace
from typing import Any, TypeVar

from django.db import connections, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from provisioning import logahead
from provisioning.logahead import read_ahead
from provisioning.logcolumns import (
    CSV_COLUMNS,
    LOG_COLUMNS,
    Fixed,
    Label,
    LogContext,
    Shared,
    compact_json,
    encode_string,
)
from provisioning.logparts import graph_properties, graph_steps
from provisioning.logquery import CHUNK_SIZE, iter_keyset_chunks, older_than
from provisioning.models import ProvisioningCycle, ProvisioningLogEntry

T = TypeVar("T")


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
    """cycle pk -> the JSON text of its GUID, the job's cycles read once (LogContext), a newer one when met."""

    def __init__(self, ctx: LogContext) -> None:
        super().__init__({pk: encode_string(guid or "") for pk, guid in ctx.cycle_ids.items()})
        self.ctx = ctx

    def __missing__(self, pk: int) -> str:
        text = self[pk] = encode_string(self.ctx.cycle_guid(SimpleNamespace(cycle_id=pk)))
        return text


def _compile(shape: Mapping, ctx: LogContext, shared: Callable[[Any], Any]) -> tuple[str, list[str], list[str]]:
    """(a str.format template, the SQL of the leaves in their order, the raw leaves in their order). The template's
    fields are numbered as the arguments come: the SQL leaves (a column read twice is selected once), the row's id
    (unused), the raw leaves as stored (unused), then their JSON texts."""
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
    sql = list(dict.fromkeys(SQL_TEXT[key] for kind, key in kinds if kind == "sql"))
    raw = [key for kind, key in kinds if kind == "raw"]
    fields = []
    for kind, key in kinds:
        fields.append(sql.index(SQL_TEXT[key]) if kind == "sql" else len(sql) + 1 + len(raw) + raw.index(key))
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

    template, sql, raw_keys = _compile(shape, ctx, shared)
    render = template.format
    names = [f"_t{n}" for n in range(len(sql))]
    raw_names = [f"_r{n}" for n in range(len(raw_keys))]
    expressions = [*sql, *(RAW[key] for key in raw_keys)]
    # Constants of this module and field names only: nothing of the request reaches this SQL.
    annotations = {name: RawSQL(sql, ()) for name, sql in zip([*names, *raw_names], expressions, strict=True)}  # noqa: S611
    cycles = _CycleTexts(ctx)
    makers = {
        "steps": lambda text: graph_steps(text, slow["steps"]),
        "properties": lambda text: graph_properties(text, slow["properties"]),
        "cycle": cycles.__getitem__,
    }
    first, second, third = (makers[key] for key in raw_keys)  # the shape names each once
    query = entries.annotate(**annotations).order_by("-activity_at", "-id")
    columns = (*names, "id", *raw_names)
    chunks = keyset_rows(query, columns, len(names))
    with closing(read_ahead(chunks) if logahead.OVERLAP else chunks) as chunks:
        for rows in chunks:
            yield ",".join([render(*row, first(row[-3]), second(row[-2]), third(row[-1])) for row in rows])


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


# The three CSV files on PostgreSQL: the database writes each line as the csv module writes it (the standard
# dialect, minimal quoting, lines ended by \r\n): a cell holding a comma, a double quote, CR or LF is put in double
# quotes with its double quotes doubled, any other cell (spaces, other characters, an empty one) as it is, NULL
# and '' alike empty. Python then only joins the lines. The golden files of tests/logs/test_download_bytes.py and
# tests/logs/test_download_csv_lines.py hold both paths to the same bytes.
ENTRY = ProvisioningLogEntry._meta.db_table
CYCLE = ProvisioningCycle._meta.db_table
UTC_TEXT = "to_char({} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
CRLF = "E'\\r\\n'"


def csv_cell(expression: str) -> str:
    """The SQL of the CSV cell of a text (or NULL) value."""
    value = f"COALESCE(({expression})::text, '')"
    return f"""CASE WHEN {value} ~ '[",\\r\\n]' THEN '"' || replace({value}, '"', '""') || '"' ELSE {value} END"""


def csv_cells(cells: list[tuple[str, bool]]) -> str:
    """The SQL of the cells (expression, whether it may need quotes) joined by commas: one look for the characters
    that need quotes in all the cells that may hold them, each cell quoted only when one is there. A cell that
    needs no look is already its text (never NULL)."""
    checked = [expression for expression, check in cells if check]
    plain = " || ',' || ".join(f"COALESCE(({expression})::text, '')" if check else f"({expression})"
                               for expression, check in cells)  # fmt: skip
    quoting = " || ',' || ".join(f"({csv_cell(expression)})" if check else f"({expression})"
                                 for expression, check in cells)  # fmt: skip
    return f"""CASE WHEN concat({", ".join(checked)}) ~ '[",\\r\\n]' THEN {quoting} ELSE {plain} END"""


def quoted(value: Any) -> str:
    """The csv module's cell of a constant (a cell of a one-cell row is never empty here: the line has others)."""
    text = "" if value is None else str(value)
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\r\n') else text


def _csv_line(ctx: LogContext) -> tuple[str, list[str]]:
    """(SQL, params) of the line of ProvisioningLogs.csv of an entry (logexport._cell's values, written)."""
    params: list[str] = []

    def constant(value: Any, *, cell: bool = True) -> str:
        params.append(quoted(value) if cell else value)
        return "%s"

    def label(key: str, field: str) -> str:
        labels = LOG_COLUMNS[key].text
        assert isinstance(labels, Label)
        resolved = labels.resolved()
        whens = " ".join(
            f"WHEN {constant(value, cell=False)} THEN {constant(resolved(value))}" for value in labels.labels
        )
        stored = f'"{ENTRY}".{field}'
        return f"CASE {stored} {whens} ELSE {csv_cell(stored)} END"

    special = {  # the cells that never hold a character to quote, and the labels (quoted as they are made)
        "date": UTC_TEXT.format(f'"{ENTRY}".activity_at'),
        "next_attempt": f"""COALESCE({UTC_TEXT.format(f'"{ENTRY}".next_attempt_at')}, '')""",
        "job": constant(ctx.job.job_id),
        "action": label("action", "action"),
        "status": label("status", "status"),
        "source_system": constant(LOG_COLUMNS["source_system"].value(None, ctx)),
        "target_system": constant(LOG_COLUMNS["target_system"].value(None, ctx)),
        "duration": f'"{ENTRY}".duration_ms::text',
        "escrow_attempt": f"""COALESCE("{ENTRY}".escrow_attempt::text, '')""",
        "dry_run": f"""CASE WHEN "{ENTRY}".dry_run THEN 'true' ELSE 'false' END""",
    }
    checked = {"cycle": f'(SELECT c.cycle_id FROM "{CYCLE}" c WHERE c.id = "{ENTRY}".cycle_id)'}  # noqa: S608
    cells = []
    for key in CSV_COLUMNS:
        if key in special:
            cells.append((special[key], False))
        else:  # the cycle's GUID, or a field written as stored
            field = LOG_COLUMNS[key].field
            assert field or key in checked, key
            cells.append((checked.get(key) or f'"{ENTRY}".{field}', True))
    sql = f"{csv_cells(cells)} || {CRLF}"
    params = params * 2  # csv_cells writes the line twice (with and without quoting), the cells in their order
    assert sql.count("%s") == len(params)
    return sql, params


def csv_line_chunks(entries: QuerySet, ctx: LogContext) -> Iterator[list[str]]:
    """The lines of ProvisioningLogs.csv (CSV_COLUMNS, each ending in CRLF), a chunk of rows at a time, newest
    first."""
    sql, params = _csv_line(ctx)
    # Constants of this module and field names only; the values of the request are parameters.
    query = entries.annotate(_line=RawSQL(sql, params)).order_by("-activity_at", "-id")  # noqa: S611
    for rows in without_jit(keyset_rows(query, ("_line", "id"), 1), entries.db):
        yield [row[0] for row in rows]


def _plain(*keys: str) -> str:
    """SQL: the item's keys are missing, null or strings (what logparts' structs read as it is)."""
    return " AND ".join(f"COALESCE(jsonb_typeof(item->'{key}'), 'null') IN ('string', 'null')" for key in keys)


STEP_PLAIN = f"""CASE WHEN jsonb_typeof(item) = 'object' THEN {_plain("name", "type", "status", "description")}
  AND CASE jsonb_typeof(item->'details')
        WHEN 'object' THEN NOT EXISTS (SELECT 1 FROM jsonb_each(item->'details') AS d(k, v)
                                       WHERE jsonb_typeof(v) <> 'string')
        ELSE COALESCE(jsonb_typeof(item->'details'), 'null') = 'null' END
  ELSE false END"""  # noqa: S608  (constants)
# The cell of a details object of strings as msgspec writes it (compact, its keys in the order of the stored
# text, jsonb's), put in quotes at once: a non-empty one holds double quotes.
STEP_DETAILS = """CASE WHEN jsonb_typeof(item->'details') = 'object' AND item->'details' <> '{}' THEN
    '"{' || (SELECT string_agg(replace(to_json(d.k)::text || ':' || d.v::text, '"', '""'), ',' ORDER BY d.o)
             FROM jsonb_each(item->'details') WITH ORDINALITY AS d(k, v, o)) || '}"'
  ELSE '{}' END"""
PROPERTY_PLAIN = f"""CASE WHEN jsonb_typeof(item) = 'object' THEN {_plain("displayName", "oldValue", "newValue")}
  ELSE false END"""
# field -> (SQL: the item is plain, the item's values as the file's cells after its change id: (name, SQL, made a
# cell by csv_cell))
PART_LINES = {
    "steps": (STEP_PLAIN, [("number", "number::text", False),
                           *((key, f"item->>'{key}'", True) for key in ("name", "type", "status", "description")),
                           ("details", STEP_DETAILS, False)]),
    "modified_properties": (PROPERTY_PLAIN, [(key, f"item->>'{key}'", True)
                                             for key in ("displayName", "oldValue", "newValue")]),
}  # fmt: skip
PART_LINES_NAME = "_part_lines"
LINES, TEXT = "L", "T"  # the first character of a PART_LINES_NAME value: the lines follow, or the stored text


def part_lines_sql(field: str) -> str:
    """SQL of an entry's value of a steps or properties file: LINES and its lines written by the database when
    every item of the list is plain, else TEXT and the list's stored text (for logparts; NULL for NULL). Each item
    is read once (OFFSET 0 keeps the planner from repeating an item's expressions where they are used)."""
    plain, cells = PART_LINES[field]
    values = ", ".join(f"CASE WHEN ok THEN {sql} END AS v_{name}" for name, sql, _ in cells)
    line = csv_cells([(f'"{ENTRY}".change_id', True), *((f"v_{name}", cell) for name, _, cell in cells)])
    return f"""CASE WHEN jsonb_typeof({field}) = 'array' THEN (
      SELECT CASE WHEN bool_and(ok) IS NOT FALSE
                  THEN '{LINES}' || COALESCE(string_agg({line} || {CRLF}, '' ORDER BY number), '')
                  ELSE '{TEXT}' || {field}::text END
      FROM (SELECT number, ok, {values}
            FROM (SELECT item, number, {plain} AS ok
                  FROM jsonb_array_elements({field}) WITH ORDINALITY AS i(item, number) OFFSET 0) AS checked
            OFFSET 0) AS item_values)
    ELSE '{TEXT}' || {field}::text END"""  # noqa: S608  (constants)


def csv_part_chunks(entries: QuerySet, field: str) -> Iterator[list[dict]]:
    """Rows (change_id, PART_LINES_NAME: part_lines_sql's value) of a steps or properties file, newest first."""
    # Constants of this module and field names only.
    annotated = entries.annotate(**{PART_LINES_NAME: RawSQL(part_lines_sql(field), ())})  # noqa: S611
    return without_jit(iter_keyset_chunks(annotated, ("change_id", PART_LINES_NAME), dict), entries.db)


def without_jit(chunks: Iterator[T], using: str) -> Iterator[T]:
    """The chunks, each read with PostgreSQL's JIT compilation off: the planner's guess of rows per jsonb list
    (100) prices a chunk's query high enough to compile it, which takes longer than the query itself. SET LOCAL
    ends with the chunk's own transaction."""
    try:
        while True:
            with transaction.atomic(using=using):
                with connections[using].cursor() as cursor:
                    cursor.execute("SET LOCAL jit = off")
                try:
                    chunk = next(chunks)
                except StopIteration:
                    return
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
