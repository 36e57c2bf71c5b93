"""Downloads read their rows a chunk at a time (on PostgreSQL the next chunk while the current one is written, and
a zip member's text deflated while the next chunk's is made): chunk boundaries lose, repeat or reorder nothing, a
download stopped half way leaves no work running on the connection, and a failed read is an error, never a
shorter file."""

from __future__ import annotations

import functools
import io
import json
import threading
import zipfile

import pytest
from django.urls import reverse

from provisioning import logexport, logquery, logsql
from provisioning.logahead import WriteBehind, read_ahead
from provisioning.logexport import stream_csv_zip, stream_json
from provisioning.logquery import filtered_entries, parse_filters
from provisioning.models import ProvisioningLogEntry
from tests.logs.conftest import make_entry

THREADS = ("log-read-ahead", "log-write-behind")


def chunks_of_size(monkeypatch, size: int) -> None:
    monkeypatch.setattr(logsql, "CHUNK_SIZE", size)
    monkeypatch.setattr(
        logexport, "iter_keyset_chunks", functools.partial(logquery.iter_keyset_chunks, chunk_size=size)
    )


def download(client, application, kind: str) -> bytes:
    response = client.get(reverse(f"provisioning_logs_download_{kind}", args=[application.slug]))
    return b"".join(response.streaming_content)


def csv_files(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def helper_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith(THREADS)]


@pytest.fixture
def tied_entries(cycle):
    """Eleven rows, seven of them at the same moment (the keyset's tie broken by id across chunks), one whose
    steps and properties the fast path hands to the columns' own (a details key "type", a number as a name, numbers
    as property values)."""
    rows = [make_entry(cycle, number=n, minutes_ago=1) for n in range(7)]
    rows += [make_entry(cycle, number=n, minutes_ago=n) for n in range(7, 10)]
    rows.append(
        make_entry(
            cycle,
            number=10,
            minutes_ago=1,
            steps=[{"name": 7, "type": "export", "details": {"type": "inner", "Ratio": 1e-07}}],
            modified_properties=[{"displayName": "Count", "oldValue": 1, "newValue": 2.5}],
        )
    )
    return rows


@pytest.mark.parametrize("size", [1, 2, 3, 7])
def test_downloads_in_small_chunks_are_the_same_bytes_as_in_one(
    reader_client, application, tied_entries, monkeypatch, size
):
    whole_json = download(reader_client, application, "json")
    whole_csv = csv_files(download(reader_client, application, "csv"))
    chunks_of_size(monkeypatch, size)
    assert download(reader_client, application, "json") == whole_json
    assert csv_files(download(reader_client, application, "csv")) == whole_csv
    summaries = json.loads(whole_json)
    assert sorted(s["changeId"] for s in summaries) == sorted(e.change_id for e in tied_entries)
    odd = next(s for s in summaries if s["changeId"] == tied_entries[-1].change_id)
    assert odd["provisioningSteps"] == [
        {"name": 7, "description": "", "details": {"type": "inner", "Ratio": 1e-07}, "provisioningStepType": "export",
         "status": ""}
    ]  # fmt: skip
    assert odd["modifiedProperties"] == [{"displayName": "Count", "oldValue": 1, "newValue": 2.5}]
    assert helper_threads() == []


@pytest.mark.parametrize("stream", [stream_json, stream_csv_zip])
def test_a_download_stopped_half_way_leaves_the_connection_free(application, cycle, monkeypatch, stream):
    for n in range(12):
        make_entry(cycle, number=n, minutes_ago=n)
    chunks_of_size(monkeypatch, 2)
    job = application.job
    pieces = stream(filtered_entries(job, parse_filters({})), job)
    next(pieces)
    next(pieces)
    pieces.close()  # what closing the response does when the client goes away
    assert helper_threads() == []
    assert ProvisioningLogEntry.objects.count() == 12  # the connection answers
    rest = stream(filtered_entries(job, parse_filters({})), job)
    body = b"".join(rest)
    assert len(json.loads(body) if stream is stream_json else csv_files(body)) == (12 if stream is stream_json else 3)


def test_a_failed_read_is_raised_after_the_chunks_before_it():
    def chunks():
        yield 1
        yield 2
        raise RuntimeError("the database went away")

    got = []
    with pytest.raises(RuntimeError, match="went away"):
        for chunk in read_ahead(chunks()):
            got.append(chunk)
    assert got == [1, 2]
    assert helper_threads() == []


def test_a_stopped_reader_reads_at_most_one_chunk_ahead_and_closes_its_source():
    read, closed = [], []

    def chunks():
        try:
            for number in range(100):
                read.append(number)
                yield number
        finally:
            closed.append(True)

    ahead = read_ahead(chunks())
    assert next(ahead) == 0
    ahead.close()
    assert read in ([0], [0, 1])
    assert closed == [True]
    assert helper_threads() == []


def test_write_behind_writes_in_order_and_raises_a_failed_write_at_the_next_flush():
    written = []

    def write(data: bytes) -> None:
        if data == b"bad":
            raise OSError("disk full")
        written.append(data)

    writes = WriteBehind(write)
    for data in (b"a", b"b", b"c"):
        writes.submit(data)
    writes.flush()
    assert written == [b"a", b"b", b"c"]
    writes.submit(b"bad")
    with pytest.raises(OSError, match="disk full"):
        writes.flush()
    writes.close()
    assert helper_threads() == []


def test_a_csv_download_stopped_half_way_closes_its_temporary_files(application, cycle, monkeypatch):
    closed = []

    class Spool(logexport.Spool):
        def close(self) -> None:
            closed.append(self.file.name)
            super().close()

    monkeypatch.setattr(logexport, "Spool", Spool)
    for n in range(12):
        make_entry(cycle, number=n, minutes_ago=n)
    chunks_of_size(monkeypatch, 2)
    job = application.job
    pieces = stream_csv_zip(filtered_entries(job, parse_filters({})), job)
    next(pieces)
    next(pieces)
    pieces.close()
    assert len(closed) == 2
    assert helper_threads() == []
