"""JSON a person hands the console is measured before it is parsed: size and depth limits with messages that name
them, and no RecursionError or other stray exception whatever the text holds."""

from __future__ import annotations

import io
import json

import pytest

from console.json_input import (
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    JsonInputError,
    load_json,
    nesting_depth,
    read_json_file,
)


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("5", 0),
        ('"[[[["', 0),
        ("[]", 1),
        ('{"a": [1, {"b": "]]]]"}], "c": {}}', 3),
        ('["\\"[[", ["\\\\"]]', 2),  # an escaped quote does not end the string; an escaped backslash does not escape
        ('[[["unterminated', 3),
        ('"ends in a backslash \\', 0),
    ],
)
def test_depth_is_counted_outside_strings(text, depth):
    assert nesting_depth(text) == depth


def test_a_document_as_deep_as_the_limit_is_read():
    text = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert nesting_depth(text) == MAX_JSON_DEPTH
    assert load_json(text) is not None


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000, 399_999])
def test_deeper_nesting_is_refused_before_parsing(depth):
    with pytest.raises(JsonInputError) as refused:
        load_json('{"a":' * depth, what="The file")  # unterminated: the parser never sees it
    assert str(refused.value).startswith(f"The file nests arrays and objects {depth:,} levels deep; at most")
    assert f"at most {MAX_JSON_DEPTH} levels" in str(refused.value)


def test_a_document_over_the_size_limit_is_refused():
    text = json.dumps({"padding": "x" * MAX_JSON_BYTES})
    with pytest.raises(JsonInputError, match=f"at most {MAX_JSON_BYTES:,} bytes of JSON are read"):
        load_json(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{nope", "is not valid JSON: Expecting property name"),
        ("1" * 5000, "holds a number of more than 4,300 digits"),
        (b"\xff\xfe\x00", "not valid JSON|not UTF-8"),
        ("", "is not valid JSON"),
    ],
)
def test_every_other_failure_is_a_json_input_error(text, message):
    with pytest.raises(JsonInputError, match=message):
        load_json(text)


def test_files_are_read_no_further_than_the_limit(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b"[" + b"1," * MAX_JSON_BYTES + b"1]")
    with pytest.raises(JsonInputError, match=f"has more than {MAX_JSON_BYTES:,} bytes"):
        read_json_file(str(big))
    with pytest.raises(JsonInputError, match="Cannot read .*missing.json: No such file"):
        read_json_file(str(tmp_path / "missing.json"))
    assert read_json_file("-", stdin=io.StringIO('{"a": [1]}')) == {"a": [1]}
    with pytest.raises(JsonInputError, match="Standard input nests arrays and objects"):
        read_json_file("-", stdin=io.StringIO("[" * 5000))
