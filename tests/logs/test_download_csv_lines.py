"""On PostgreSQL the database writes the lines of the three CSV files; they are the bytes Python's csv module writes
from the same rows (minimal quoting: a cell with a comma, a double quote, CR or LF in double quotes, its quotes
doubled; spaces, tabs and other characters as they are; NULL and '' both an empty cell), entries whose lists the
database cannot write exactly kept on the Python path, in their place, across chunk boundaries. On SQLite both
downloads below take the Python path."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import pytest

from provisioning import logexport
from provisioning.logsql import quoted
from tests.logs.conftest import make_entry
from tests.logs.test_download_chunks import chunks_of_size, csv_files, download

AWKWARD = [
    "comma, inside", 'a "quoted" word', '"', ",", "line\nfeed", "carriage\rreturn", "both\r\n", " leading",
    "trailing ", "  ", "\ttab", "zoë Ångström 🙂 a\u2028b", "semi;colon", "back\\slash", "'single'", "#", "",
]  # fmt: skip


def steps_of(value: str) -> list:
    return [
        {"name": value, "type": "import", "status": "success", "description": value, "details": {value: value}},
        {"name": None, "status": "", "description": f"{value}|{value}", "details": None},  # type missing
        {"name": "EntryExport", "type": value, "status": value, "description": "", "details": {}},
        {"type": "x"},  # nothing else: every cell empty, details {}
    ]


@pytest.fixture
def awkward_log(cycle):
    rows = []
    for number, value in enumerate(AWKWARD):
        rows.append(
            make_entry(
                cycle,
                number=number,
                minutes_ago=number % 3,  # ties on the keyset's time
                upn=f"{value}@contoso.com",
                source_display_name=value,
                target_display_name=value,
                error_code=value,
                error_reason=value,
                error_recommendation=value,
                error_category=value,
                escrow_attempt=number if number % 2 else None,
                dry_run=bool(number % 2),
                steps=steps_of(value),
                modified_properties=[
                    {"displayName": value, "oldValue": value, "newValue": None},
                    {"displayName": "Missing"},
                    {"displayName": "", "oldValue": "", "newValue": value},
                ],
            )
        )
    # Lists the database leaves to Python (a number, a nested object, details not an object), between others.
    for number, (steps, properties) in enumerate(
        [
            ([{"name": 7, "details": {"type": "inner", "Ratio": 1e-07}}], [{"displayName": "n", "oldValue": 1}]),
            ([{"name": "a,b", "details": {"Nested": {"k": "v"}, "Count": 3}}], [{"displayName": "x", "newValue": 2}]),
            ([{"name": "a", "details": "text"}, {"name": "b", "details": 0}], [{"displayName": "ok"}]),
            ([{"name": "ok", "details": {}}], [{"displayName": "x", "newValue": True}]),
        ],
        start=len(AWKWARD),
    ):
        rows.append(make_entry(cycle, number=number, minutes_ago=1, steps=steps, modified_properties=properties))
    rows.append(make_entry(cycle, number=99, minutes_ago=2, steps=[], modified_properties=[]))
    return rows


def python_path(monkeypatch) -> None:
    """The downloads as on a database whose lines Python writes."""
    monkeypatch.setattr(logexport, "connection", SimpleNamespace(vendor="python"))


@pytest.mark.parametrize("size", [1, 2, 3, 1000])
def test_the_database_writes_the_lines_python_would(reader_client, application, awkward_log, monkeypatch, size):
    chunks_of_size(monkeypatch, size)
    made = csv_files(download(reader_client, application, "csv"))
    with monkeypatch.context() as patch:
        python_path(patch)
        expected = csv_files(download(reader_client, application, "csv"))
    assert set(made) == set(expected)
    for name, data in expected.items():
        assert made[name] == data, name


def test_the_lines_hold_the_values_as_stored(reader_client, application, awkward_log):
    files = csv_files(download(reader_client, application, "csv"))
    log = list(csv.DictReader(io.StringIO(files["ProvisioningLogs.csv"].decode("utf-8-sig"), newline="")))
    assert sorted(row["Source Identity Name"] for row in log[: len(AWKWARD) + 5]) == sorted(
        [*AWKWARD, *["User 17", "User 18", "User 19", "User 20", "User 99"]]
    )
    steps = files["ProvisioningLogs_ProvisioningSteps.csv"].decode("utf-8-sig")
    assert steps.count("\r\n") >= 4 * len(AWKWARD)  # lines end in CRLF; quoted cells keep their own
    names = [row[2] for row in csv.reader(io.StringIO(steps, newline=""))]
    assert set(AWKWARD) <= set(names)
    by_change = {entry.change_id: entry for entry in awkward_log}
    for row in csv.reader(io.StringIO(steps, newline="")):
        if row[0] in by_change and row[1] == "1" and by_change[row[0]].steps[0].get("name") in AWKWARD:
            value = by_change[row[0]].steps[0]["name"]
            assert row[2:6] == [value, "import", "success", value]


def test_a_cell_is_quoted_as_the_csv_module_quotes_it():
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    for value in [*AWKWARD, None, 17]:
        text.seek(0)
        text.truncate()
        writer.writerow([value, "x"])
        assert text.getvalue() == f"{quoted(value)},x\r\n"
