"""The steps and modified properties of a download, from their stored JSON text to what the download writes:
Graph's provisioningStep / modifiedProperty JSON text, and the rows of Entra's two CSV files of them.

A download reads the two JSON columns as text (no Python objects from the database driver) and turns each
entry's list into its output with msgspec's decoder and encoder, both written in C: the decoder fills small
structs (the keys a step or property has, with the defaults the columns give a missing key, logcolumns.Item) and
the encoder writes them back, compact, in the order of Graph's shape. The result is the same text as the columns'
own path (decode, compile_item_shape, the standard encoder), which stays the fallback for any entry the structs
do not describe exactly: a value that is not a string or null where one is expected, a list that is not a list of
objects, a details object holding a key named "type".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import msgspec

from provisioning.logcolumns import compact_json

# A non-integer number in a details object is written as the standard encoder writes the float json.loads makes
# of it (msgspec writes exponents differently: 1e-7 where Python writes 1e-07).
_DECIMAL = msgspec.Raw


def _float(text: str) -> msgspec.Raw:
    return _DECIMAL(compact_json(float(text)).encode())


class Step(msgspec.Struct, gc=False):
    """A stored step, its fields in the order of Graph's provisioningStep (type is renamed after encoding). Not
    tracked by the garbage collector (gc=False): what a decoder fills holds no cycle, and 400,000 steps a download
    would otherwise set off collections of their own."""

    name: str | None = ""
    description: str | None = ""
    details: Any = {}
    type: str | None = ""
    status: str | None = ""


class Property(msgspec.Struct, gc=False):
    """A stored modified property: already in Graph's keys and order."""

    displayName: str | None = ""  # noqa: N815  (Graph's name)
    oldValue: str | None = None  # noqa: N815
    newValue: str | None = None  # noqa: N815


_steps = msgspec.json.Decoder(list[Step], float_hook=_float).decode
_properties = msgspec.json.Decoder(list[Property], float_hook=_float).decode
_encode = msgspec.json.Encoder().encode
_FAILED = (msgspec.DecodeError, msgspec.ValidationError)
STEP_TYPE = b',"type":'
GRAPH_STEP_TYPE = b',"provisioningStepType":'


def _decoded_steps(text: str | None) -> list[Step] | None:
    """The steps of an entry, details defaulted as Item("details", {}, or_default=True) does; None when they are
    not what Step describes (the caller then takes the columns' path)."""
    try:
        steps = _steps(text or "[]")
    except _FAILED:
        return None
    for step in steps:
        details = step.details
        if not details:
            step.details = {}
        elif details.__class__ is _DECIMAL and float(bytes(details)) == 0:
            step.details = {}
    return steps


def graph_steps_utf8(text: str | None, slow: Callable[[Any], str]) -> bytes:
    """Graph's provisioningSteps JSON of an entry's stored steps, UTF-8 (as msgspec writes it); slow(decoded list),
    encoded, otherwise."""
    steps = _decoded_steps(text)
    if steps is not None:
        data = _encode(steps)
        if data.count(STEP_TYPE) == len(steps):  # no details object has a key "type" the renaming would hit
            return data.replace(STEP_TYPE, GRAPH_STEP_TYPE)
    return slow(json.loads(text) if text else []).encode()


def graph_properties_utf8(text: str | None, slow: Callable[[Any], str]) -> bytes:
    """Graph's modifiedProperties JSON of an entry's stored properties, UTF-8; slow(decoded list), encoded,
    otherwise."""
    try:
        return _encode(_properties(text or "[]"))
    except _FAILED:
        return slow(json.loads(text) if text else []).encode()


def graph_steps(text: str | None, slow: Callable[[Any], str]) -> str:
    """graph_steps_utf8's text."""
    return graph_steps_utf8(text, slow).decode()


def graph_properties(text: str | None, slow: Callable[[Any], str]) -> str:
    """graph_properties_utf8's text."""
    return graph_properties_utf8(text, slow).decode()


def step_rows(change_id: str, text: str | None, slow: Callable[[Any], list[list]]) -> list[list]:
    """The rows of ProvisioningLogs_ProvisioningSteps.csv for an entry: change id, step number, name, type, status,
    description, details as compact JSON (STEP_COLUMNS)."""
    steps = _decoded_steps(text)
    if steps is None:
        return slow(json.loads(text) if text else [])
    return [
        [change_id, number, step.name, step.type, step.status, step.description,
         "{}" if step.details.__class__ is dict and not step.details else _encode(step.details).decode()]
        for number, step in enumerate(steps, start=1)
    ]  # fmt: skip


def property_rows(change_id: str, text: str | None, slow: Callable[[Any], list[list]]) -> list[list]:
    """The rows of ProvisioningLogs_ModifiedProperties.csv for an entry: change id, property, old value, new
    value (PROPERTY_COLUMNS: a missing or null value is an empty cell)."""
    try:
        properties = _properties(text or "[]")
    except _FAILED:
        return slow(json.loads(text) if text else [])
    return [[change_id, p.displayName, p.oldValue or "", p.newValue or ""] for p in properties]


# The CSV files' lines at once ---------------------------------------------------------------------------------
# step_rows and property_rows give the cells the csv module writes; for an entry whose values are text that needs no
# quoting (no comma, double quote, CR or LF), these write the same lines with one format call a line. Anything else
# (a null or a number where text is expected, a value to quote) returns None: the caller writes that entry's rows
# with the csv module.


class CsvStep(msgspec.Struct, gc=False):
    """A stored step whose name, type, status and description are text."""

    name: str = ""
    description: str = ""
    details: Any = {}
    type: str = ""
    status: str = ""


class CsvProperty(msgspec.Struct, gc=False):
    """A stored modified property whose values are text (or null: an empty cell)."""

    displayName: str = ""  # noqa: N815  (Graph's name)
    oldValue: str | None = None  # noqa: N815
    newValue: str | None = None  # noqa: N815


_csv_steps = msgspec.json.Decoder(list[CsvStep], float_hook=_float).decode
_csv_properties = msgspec.json.Decoder(list[CsvProperty]).decode


def unquoted(text: str) -> bool:
    """Whether the csv module writes `text` as it is (QUOTE_MINIMAL, "," and CRLF)."""
    return not ("," in text or '"' in text or "\n" in text or "\r" in text)


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if '"' in cell or "," in cell else cell


def step_lines(change_id: str, text: str | None) -> str | None:
    """The lines step_rows' rows make (change_id plain), or None."""
    try:
        steps = _csv_steps(text or "[]")
    except _FAILED:
        return None
    lines = []
    for number, step in enumerate(steps, start=1):
        name, kind, status, description = step.name, step.type, step.status, step.description
        if not unquoted(name + kind + status + description):
            return None
        details = step.details
        if not details or (details.__class__ is _DECIMAL and float(bytes(details)) == 0):
            cell = "{}"
        else:  # JSON text: no CR or LF (the encoder escapes them)
            cell = _quoted(_encode(details).decode())
        lines.append(f"{change_id},{number},{name},{kind},{status},{description},{cell}\r\n")
    return "".join(lines)


def property_lines(change_id: str, text: str | None) -> str | None:
    """The lines property_rows' rows make (change_id plain), or None."""
    try:
        properties = _csv_properties(text or "[]")
    except _FAILED:
        return None
    lines = []
    for item in properties:
        name, old, new = item.displayName, item.oldValue or "", item.newValue or ""
        if not unquoted(name + old + new):
            return None
        lines.append(f"{change_id},{name},{old},{new}\r\n")
    return "".join(lines)
