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
import zipfile
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
from provisioning.logparts import graph_properties, graph_steps, property_rows, step_rows
from provisioning.logquery import iter_keyset_chunks
from provisioning.logsql import csv_row_chunks, stream_json_text
from provisioning.models import ProvisioningJob

SQL_CELLS = ("<cells made by PostgreSQL>",)  # a pass whose rows the database makes (logsql.csv_row_chunks)
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
    separator = ""
    if connection.vendor == "postgresql":  # the database writes the leaves' text (logsql)
        slow = {key: _slow_graph_text(key, field, ctx) for key, field in lists.items()}
        with closing(stream_json_text(entries, GRAPH_SUMMARY, ctx, slow)) as texts:  # a stop ends its reads
            for text in texts:
                yield (separator + text).encode()
                separator = ","
    else:
        texts = {key: _graph_text(key, field, ctx) for key, field in lists.items()}
        summary = compile_shape_text(GRAPH_SUMMARY, LOG_COLUMNS, ctx, texts)
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


def _csv_passes(ctx: LogContext) -> Iterator[tuple[str, list[Column], tuple[str, ...], Callable]]:
    """(file, columns, fields read, entry -> its rows) of the three CSV files."""
    log = [LOG_COLUMNS[key] for key in CSV_COLUMNS]
    if connection.vendor == "postgresql":
        yield CSV_FILES[0], log, SQL_CELLS, lambda entries: csv_row_chunks(entries, CSV_COLUMNS, ctx)
    else:
        log_row = _texts(log, ctx)
        yield CSV_FILES[0], log, column_fields(log), lambda entry: [log_row(entry)]
    for name, field, sub_columns, fast in (
        (CSV_FILES[1], "steps", STEP_COLUMNS, step_rows),
        (CSV_FILES[2], "modified_properties", PROPERTY_COLUMNS, property_rows),
    ):
        sub = list(sub_columns.values())
        yield name, sub, ("change_id", field), _part_rows(field, _texts(sub, ctx), fast)


def _part_rows(field: str, sub_row: Callable, fast: Callable) -> Callable[[Row], list[list]]:
    """entry -> its rows in a steps or properties file, from the field's stored text (logparts); the columns' own
    path for what logparts leaves to it."""
    name = TEXT_OF[field]

    def rows(entry: Row) -> list[list]:
        change_id = entry["change_id"]
        return fast(
            change_id,
            entry[name],
            lambda data: [sub_row(p) for p in parts(Row(change_id=change_id, **{field: data}), field)],
        )

    return rows


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
    columns: list[Column],
    entries: QuerySet,
    fields: tuple[str, ...],
    rows: Callable[[Row], Iterable[list]],
) -> Iterator[bytes]:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    with archive.open(name, "w", force_zip64=True) as member:
        member.write("\ufeff".encode())  # a BOM so that spreadsheet programs read UTF-8
        writer.writerow([column.export_heading for column in columns])
        chunks = rows(entries) if fields == SQL_CELLS else chunks_of(entries, fields)
        threaded = connection.vendor == "postgresql" and logahead.OVERLAP
        if threaded:  # the next chunk is read while this one is written
            chunks = read_ahead(chunks)
        # The chunk's text is deflated in a thread while the next chunk's text is made (zlib releases the GIL).
        compress = WriteBehind(member.write) if threaded else None
        try:
            for chunk in chunks:
                if fields == SQL_CELLS:  # cells made by the database: the chunk as it came
                    writer.writerows(chunk)
                else:
                    for entry in chunk:
                        writer.writerows(rows(entry))
                data = text.getvalue().encode()
                text.seek(0)
                text.truncate()
                if compress is None:
                    member.write(data)
                    yield sink.drain()
                else:
                    compress.flush()  # the previous chunk's bytes are complete: hand them out
                    done = sink.drain()
                    compress.submit(data)
                    yield done
            if compress is not None:
                compress.flush()
        finally:
            if compress is not None:
                compress.close()
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        member.write(text.getvalue().encode())
    yield sink.drain()


def stream_csv_zip(entries: QuerySet, job: ProvisioningJob) -> Iterator[bytes]:
    """One zip holding Entra's three CSV files; each file is one pass over the filtered rows."""
    sink = _Sink()
    # Level 1: a third of the default level's time on this text, for a somewhat larger file.
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    for name, columns, fields, rows in _csv_passes(LogContext(job)):
        yield from _csv_member(archive, sink, name, columns, entries, fields, rows)
    archive.close()
    yield sink.drain()
