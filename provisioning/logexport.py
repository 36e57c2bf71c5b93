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
from typing import Any

from django.db.models import QuerySet

from console.lists import Column, column_fields
from provisioning.logcolumns import (
    CSV_COLUMNS,
    GRAPH_SUMMARY,
    LOG_COLUMNS,
    PROPERTY_COLUMNS,
    STEP_COLUMNS,
    LogContext,
    compile_shape,
    parts,
)
from provisioning.logquery import iter_keyset_values
from provisioning.models import ProvisioningJob

FLUSH_EVERY = 500  # entries per yielded piece of JSON

CSV_FILES = (
    "ProvisioningLogs.csv",
    "ProvisioningLogs_ProvisioningSteps.csv",
    "ProvisioningLogs_ModifiedProperties.csv",
)


class Row(dict):
    """A row read with .values(): attribute access, so that columns read it as they read a model instance."""

    __getattr__ = dict.__getitem__


def rows_of(entries: QuerySet, fields: tuple[str, ...]) -> Iterator[Row]:
    return (Row(values) for values in iter_keyset_values(entries, fields))


def stream_json(entries: QuerySet, job: ProvisioningJob) -> Iterator[bytes]:
    """A minified JSON array of provisioningObjectSummary objects, newest first."""
    ctx = LogContext(job)
    summary = compile_shape(GRAPH_SUMMARY, LOG_COLUMNS, ctx)
    yield b"["
    first = True
    pieces: list[str] = []
    for entry in rows_of(entries, column_fields(LOG_COLUMNS)):
        text = json.dumps(summary(entry), separators=(",", ":"), ensure_ascii=False)
        pieces.append(text if first else "," + text)
        first = False
        if len(pieces) >= FLUSH_EVERY:
            yield "".join(pieces).encode()
            pieces = []
    pieces.append("]")
    yield "".join(pieces).encode()


# CSV ---------------------------------------------------------------------------------------------------------


def _texts(columns: list[Column], ctx: LogContext) -> Callable[[Any], list]:
    cells = [(column.value, column.text) for column in columns]
    return lambda row: [text(value(row, ctx)) for value, text in cells]


def _csv_passes(ctx: LogContext) -> Iterator[tuple[str, list[Column], tuple[str, ...], Callable]]:
    """(file, columns, fields read, entry -> its rows) of the three CSV files."""
    log = [LOG_COLUMNS[key] for key in CSV_COLUMNS]
    log_row = _texts(log, ctx)
    yield CSV_FILES[0], log, column_fields(log), lambda entry: [log_row(entry)]
    for name, field, sub_columns in (
        (CSV_FILES[1], "steps", STEP_COLUMNS),
        (CSV_FILES[2], "modified_properties", PROPERTY_COLUMNS),
    ):
        sub = list(sub_columns.values())
        sub_row = _texts(sub, ctx)
        yield name, sub, ("change_id", field), lambda entry, f=field, r=sub_row: [r(p) for p in parts(entry, f)]


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
        for count, entry in enumerate(rows_of(entries, fields), start=1):
            writer.writerows(rows(entry))
            if count % FLUSH_EVERY == 0:
                member.write(text.getvalue().encode())
                text.seek(0)
                text.truncate()
                yield sink.drain()
        member.write(text.getvalue().encode())
    yield sink.drain()


def stream_csv_zip(entries: QuerySet, job: ProvisioningJob) -> Iterator[bytes]:
    """One zip holding Entra's three CSV files; each file is one pass over the filtered rows."""
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED)
    for name, columns, fields, rows in _csv_passes(LogContext(job)):
        yield from _csv_member(archive, sink, name, columns, entries, fields, rows)
    archive.close()
    yield sink.drain()
