"""The downloads' fast path for steps and modified properties writes what the columns' own path writes, for stored
values of every kind: numbers the two encoders write differently, values that are not strings, lists that are not
lists at all, details holding a key named "type"."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from provisioning.logcolumns import (
    GRAPH_PROPERTY,
    GRAPH_STEP,
    PROPERTY_COLUMNS,
    STEP_COLUMNS,
    compact_json,
    compile_item_shape,
    parts,
)
from provisioning.logexport import Row, _texts
from provisioning.logparts import (
    graph_properties,
    graph_steps,
    property_lines,
    property_rows,
    step_lines,
    step_rows,
)

STEPS = [
    [],
    [{"name": "EntryImport", "type": "import", "status": "success", "description": "a\u2028b \"q\"\n🙂",
      "details": {"Count": 3, "Ratio": 0.25, "Tiny": 1e-07, "Huge": 1e20, "Trailing": 1.5, "Big": 10**30,
                  "Nested": {"list": [1, "two", None, True, 2.50]}}}],
    [{"name": "EntryExportUpdate", "status": "failure"}, {"details": None}, {"details": 0.0}, {"details": []},
     {"details": ""}, {"details": "text"}, {"details": 1e-9}],
    [{"name": "A", "type": "t", "details": {"First": 1, "type": "inner"}}],
    [{"name": 7, "type": True}],
    [{"name": None, "type": None, "status": None, "description": None, "details": {"x": None}}],
    None,
]  # fmt: skip
PROPERTIES = [
    [],
    [{"displayName": "Title", "oldValue": None, "newValue": 'Clerk, "senior"'}, {"displayName": "Alias"}],
    [{"displayName": "Count", "oldValue": 1, "newValue": 2.5}],
    [{"oldValue": "x"}],
    None,
]


def stored(value) -> str:
    """The text PostgreSQL gives for a jsonb value (separators with spaces); SQLite keeps json.dumps' text."""
    return json.dumps(value)


def slow_graph(shape, columns):
    build = compile_item_shape(shape, columns)
    return lambda data: compact_json([build(item) for item in data or []])


@pytest.mark.parametrize("steps", STEPS)
def test_graph_steps_are_the_columns_text(steps):
    slow = slow_graph(GRAPH_STEP, STEP_COLUMNS)
    assert graph_steps(stored(steps), slow) == slow(steps)


@pytest.mark.parametrize("properties", PROPERTIES)
def test_graph_properties_are_the_columns_text(properties):
    slow = slow_graph(GRAPH_PROPERTY, PROPERTY_COLUMNS)
    assert graph_properties(stored(properties), slow) == slow(properties)


def csv_rows(columns, field: str, change_id: str):
    """The columns' own rows of an entry (no column of these files reads the LogContext)."""
    cells = _texts(list(columns.values()), None)
    return lambda data: [cells(part) for part in parts(Row(change_id=change_id, **{field: data}), field)]


def written(rows: list[list]) -> list[list[str]]:
    return [["" if cell is None else str(cell) for cell in row] for row in rows]


@pytest.mark.parametrize("steps", STEPS)
def test_step_rows_are_the_columns_cells(steps):
    slow = csv_rows(STEP_COLUMNS, "steps", "c1")
    assert written(step_rows("c1", stored(steps), slow)) == written(slow(steps))


@pytest.mark.parametrize("properties", PROPERTIES)
def test_property_rows_are_the_columns_cells(properties):
    slow = csv_rows(PROPERTY_COLUMNS, "modified_properties", "c1")
    assert written(property_rows("c1", stored(properties), slow)) == written(slow(properties))


def csv_text(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize("steps", STEPS)
def test_step_lines_are_what_the_csv_module_writes_or_none(steps):
    slow = csv_rows(STEP_COLUMNS, "steps", "c1")
    lines = step_lines("c1", stored(steps))
    assert lines is None or lines == csv_text(slow(steps))


@pytest.mark.parametrize("properties", PROPERTIES)
def test_property_lines_are_what_the_csv_module_writes_or_none(properties):
    slow = csv_rows(PROPERTY_COLUMNS, "modified_properties", "c1")
    lines = property_lines("c1", stored(properties))
    assert lines is None or lines == csv_text(slow(properties))


def test_text_values_needing_no_quotes_are_written_at_once():
    steps = [{"name": "EntryImport", "type": "import", "status": "success", "description": "Received 'ann'",
              "details": {"ReportableIdentifier": "ann@contoso.com", "Count": 2}},
             {"name": "EntryExportAdd", "details": {}}, {"details": 5}]  # fmt: skip
    properties = [{"displayName": "Title", "oldValue": None, "newValue": "Clerk"}, {"displayName": "Alias"}]
    assert step_lines("c1", stored(steps)) == csv_text(csv_rows(STEP_COLUMNS, "steps", "c1")(steps))
    assert property_lines("c1", stored(properties)) == csv_text(
        csv_rows(PROPERTY_COLUMNS, "modified_properties", "c1")(properties)
    )


AWKWARD = st.text(alphabet=st.sampled_from(list("ab ,\"\r\n\u2028é;'\t\\")), max_size=6)
VALUE = st.one_of(AWKWARD, st.none(), st.integers(-3, 3))


@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={"name": VALUE, "type": VALUE, "status": VALUE, "description": VALUE,
                      "details": st.one_of(VALUE, st.dictionaries(AWKWARD, VALUE, max_size=2))},
        ),
        max_size=3,
    ),
    st.lists(
        st.fixed_dictionaries({}, optional={"displayName": VALUE, "oldValue": VALUE, "newValue": VALUE}), max_size=3
    ),
)  # fmt: skip
def test_lines_made_at_once_are_the_csv_modules_for_any_values(steps, properties):
    step_text = step_lines("c1", stored(steps))
    assert step_text is None or step_text == csv_text(csv_rows(STEP_COLUMNS, "steps", "c1")(steps))
    property_text = property_lines("c1", stored(properties))
    properties_rows = csv_rows(PROPERTY_COLUMNS, "modified_properties", "c1")(properties)
    assert property_text is None or property_text == csv_text(properties_rows)
