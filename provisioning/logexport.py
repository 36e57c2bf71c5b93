"""Downloads of the provisioning log: Graph's provisioningObjectSummary as minified JSON, and Entra's three CSV
files (ProvisioningLogs, ProvisioningLogs_ProvisioningSteps, ProvisioningLogs_ModifiedProperties, joined by
change id) in one zip.

Both are generators of bytes over keyset chunks of the rows (provisioning.logquery.iter_keyset): a download of
a million rows holds one chunk in memory, never the whole set. The zip's three files are made in one read of the
rows: the first is streamed, the other two are deflated to temporary files meanwhile and copied in after it
(provisioning.logzip writes the zip's framing).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from console.lists import Column, column_fields, plain
from provisioning import logahead
from provisioning.logahead import WriteBehind, read_ahead
from provisioning.logcolumns import (
    CSV_COLUMNS,
    GRAPH_SUMMARY,
    LOG_COLUMNS,
    PROPERTY_COLUMNS,
    STEP_COLUMNS,
    Item,
    Label,
    LogContext,
    compact_json,
    compile_shape_text,
    parts,
)
from provisioning.logparts import (
    graph_properties,
    graph_steps,
    property_lines,
    property_rows,
    step_lines,
    step_rows,
    unquoted,
)
from provisioning.logquery import iter_keyset_chunks
from provisioning.logsql import csv_row_chunks, stream_json_text
from provisioning.logzip import Deflater, Spool, ZipStream
from provisioning.models import ProvisioningJob

CSV_FILES = (
    "ProvisioningLogs.csv",
    "ProvisioningLogs_ProvisioningSteps.csv",
    "ProvisioningLogs_ModifiedProperties.csv",
)


class Row(dict):
    """A row read with values_list(): attribute access, so that columns read it as they read a model instance."""

    __getattr__ = dict.__getitem__


# The two JSON columns are read as their text (TEXT_OF[field]), never decoded by the database driver: logparts
# turns that text into what the download writes.
JSON_FIELDS = ("steps", "modified_properties")
TEXT_OF = {field: f"{field}_text" for field in JSON_FIELDS}


def chunks_of(entries: QuerySet, fields: tuple[str, ...]) -> Iterator[list[Row]]:
    texts = {TEXT_OF[field]: Cast(field, TextField()) for field in fields if field in TEXT_OF}
    names = tuple(TEXT_OF.get(field, field) for field in fields)
    return iter_keyset_chunks(entries.annotate(**texts) if texts else entries, names, Row)


def _slow_graph_text(key: str, field: str, ctx: LogContext) -> Callable[[Any], str]:
    """decoded list -> the column's JSON text, the columns' own way (for what logparts leaves to them)."""
    value = LOG_COLUMNS[key].value
    return lambda data: compact_json(value(Row({field: data}), ctx))


def _graph_text(key: str, field: str, ctx: LogContext) -> Callable[[Row], str]:
    """row -> the JSON text of a steps or properties column, from the field's stored text."""
    fast, name, slow = (
        (graph_steps if field == "steps" else graph_properties),
        TEXT_OF[field],
        _slow_graph_text(key, field, ctx),
    )
    return lambda row: fast(row[name], slow)


def stream_json(entries: QuerySet, job: ProvisioningJob) -> Iterator[bytes]:
    """A minified JSON array of provisioningObjectSummary objects, newest first: each entry's text made at once
    from its row (compile_shape_text), a chunk of rows a piece."""
    ctx = LogContext(job)
    lists = {"steps": "steps", "properties": "modified_properties"}
    yield b"["
    if connection.vendor == "postgresql":  # the database writes the leaves' text (logsql)
        slow = {key: _slow_graph_text(key, field, ctx) for key, field in lists.items()}
        with closing(stream_json_text(entries, GRAPH_SUMMARY, ctx, slow)) as texts:  # a stop ends its reads
            yield from texts
    else:
        texts = {key: _graph_text(key, field, ctx) for key, field in lists.items()}
        summary = compile_shape_text(GRAPH_SUMMARY, LOG_COLUMNS, ctx, texts)
        separator = ""
        for chunk in chunks_of(entries, column_fields(LOG_COLUMNS)):
            yield (separator + ",".join([summary(entry) for entry in chunk])).encode()
            separator = ","
    yield b"]"


# CSV ---------------------------------------------------------------------------------------------------------


def _cell(column: Column, ctx: LogContext) -> Callable[[Any], Any]:
    """row -> the column's spreadsheet cell. The csv module writes None as an empty cell and numbers as str()
    does, which is what `plain` makes of them: a field shown as stored is handed over as it is."""
    if column.text is plain:
        if column.field:
            return itemgetter(column.field)
        if isinstance(column.value, Item) and not column.value.or_default:
            name, default = column.value.key, column.value.default
            return lambda part: part.item.get(name, default)
        value = column.value
        return lambda row: value(row, ctx)
    value, text = column.value, column.text
    if isinstance(text, Label):
        text = text.resolved()
    return lambda row: text(value(row, ctx))


def _texts(columns: list[Column], ctx: LogContext) -> Callable[[Any], list]:
    cells = [_cell(column, ctx) for column in columns]
    return lambda row: [cell(row) for cell in cells]


class _Writer:
    """Rows as the csv module writes Entra's files (minimal quoting, CRLF): what the lines made at once leave to it."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n")

    def text(self, rows: Iterable[Iterable[Any]]) -> str:
        self.writer.writerows(rows)
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def _part_rows(field: str, sub_row: Callable, fast: Callable) -> Callable[[str, str | None], list[list]]:
    """(change id, stored text) -> the entry's rows in a steps or properties file (logparts); the columns' own path
    for what logparts leaves to it."""

    def rows(change_id: str, text: str | None) -> list[list]:
        return fast(
            change_id,
            text,
            lambda data: [sub_row(p) for p in parts(Row(change_id=change_id, **{field: data}), field)],
        )

    return rows


def _cell_text(value: Any) -> str:
    """A cell as the csv module writes it: None empty, anything else as str() gives it."""
    return value if value.__class__ is str else "" if value is None else str(value)


def _row_chunks(entries: QuerySet, ctx: LogContext, write: Callable[[list], str]) -> Iterator[tuple[str, list[tuple]]]:
    """(ProvisioningLogs.csv's text of a chunk of rows, each row's (change id, stored steps' text, stored properties'
    text)), newest first. A line is its cells joined by commas when none needs quoting, written by `write` (the csv
    module) otherwise."""
    if connection.vendor == "postgresql":  # the database makes the cells (logsql)
        return csv_row_chunks(entries, CSV_COLUMNS, ctx, write)
    log = [LOG_COLUMNS[key] for key in CSV_COLUMNS]
    log_row = _texts(log, ctx)
    width = len(log)
    names = ("change_id", TEXT_OF["steps"], TEXT_OF["modified_properties"])

    def line(entry: Row) -> str:
        cells = [_cell_text(cell) for cell in log_row(entry)]
        text = ",".join(cells)
        if text.count(",") == width - 1 and '"' not in text and "\n" not in text and "\r" not in text:
            return text + "\r\n"
        return write([cells])

    def chunks() -> Iterator[tuple[str, list[tuple]]]:
        for chunk in chunks_of(entries, (*column_fields(log), "change_id", *JSON_FIELDS)):
            yield "".join([line(entry) for entry in chunk]), [tuple(map(entry.__getitem__, names)) for entry in chunk]

    return chunks()


class _CsvText:
    """The text a chunk of rows adds to each of the three files, each line made at once where the csv module would
    quote nothing, by the module otherwise: the same text either way."""

    def __init__(self, ctx: LogContext) -> None:
        self.writer = _Writer()
        self.step_rows = _part_rows("steps", _texts(list(STEP_COLUMNS.values()), ctx), step_rows)
        self.property_rows = _part_rows(
            "modified_properties", _texts(list(PROPERTY_COLUMNS.values()), ctx), property_rows
        )

    def headings(self) -> tuple[str, str, str]:
        """Each file's first line, after a BOM so that spreadsheet programs read UTF-8."""
        log = [LOG_COLUMNS[key] for key in CSV_COLUMNS]
        files = (log, STEP_COLUMNS.values(), PROPERTY_COLUMNS.values())
        return tuple("\ufeff" + self.writer.text([[c.export_heading for c in columns]]) for columns in files)  # type: ignore[return-value]

    def chunk(self, lines: str, rows: list[tuple]) -> tuple[str, str, str]:
        steps, properties = [], []
        text = self.writer.text
        for change_id, step_text, property_text in rows:
            fast = unquoted(change_id)
            made = step_lines(change_id, step_text) if fast else None
            steps.append(made if made is not None else text(self.step_rows(change_id, step_text)))
            made = property_lines(change_id, property_text) if fast else None
            properties.append(made if made is not None else text(self.property_rows(change_id, property_text)))
        return lines, "".join(steps), "".join(properties)


def stream_csv_zip(entries: QuerySet, job: ProvisioningJob) -> Iterator[bytes]:
    """One zip holding Entra's three CSV files, made in one pass over the filtered rows: the first file is streamed,
    the other two are deflated to temporary files meanwhile and copied in after it (logzip)."""
    ctx = LogContext(job)
    texts = _CsvText(ctx)
    archive, first, spools = ZipStream(), Deflater(), (Spool(), Spool())
    ready: list[bytes] = []  # the first file's deflated bytes not yet handed out

    def write(chunk: tuple[str, str, str]) -> None:
        ready.append(first.compress(chunk[0].encode()))
        spools[0].write(chunk[1].encode())
        spools[1].write(chunk[2].encode())

    chunks = _row_chunks(entries, ctx, _Writer().text)  # its own writer: the rows may be read in another thread
    if connection.vendor == "postgresql" and logahead.OVERLAP:  # the next chunk is read while this one is written
        chunks = read_ahead(chunks)
    # A chunk's text is deflated in a thread while the next chunk's text is made (zlib releases the GIL).
    deflate = WriteBehind(write) if logahead.OVERLAP else None
    try:
        write(texts.headings())
        yield archive.member(CSV_FILES[0], first)
        for lines, rows in chunks:
            chunk = texts.chunk(lines, rows)
            if deflate is None:
                write(chunk)
            else:
                deflate.flush()  # the previous chunk's bytes are complete: hand them out
            done = b"".join(ready)
            ready.clear()
            if deflate is not None:
                deflate.submit(chunk)
            if done:
                yield done
        if deflate is not None:
            deflate.flush()
        yield b"".join([*ready, first.flush(), archive.end_member(first)])
        for name, spool in zip(CSV_FILES[1:], spools, strict=True):
            yield archive.member(name, spool.deflater)
            yield from spool.blocks()
            yield archive.end_member(spool.deflater)
        yield archive.finish()
    finally:
        if deflate is not None:
            deflate.close()
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        for spool in spools:
            spool.close()
