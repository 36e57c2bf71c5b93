"""JSON that a person hands the console (the mapping import page and file, `apps create --file`, the expression
tester's sample user): its size and nesting depth are checked before it is parsed.

Python's parser recurses once per level of nesting, so a few kilobytes of `[[[[...` end in a RecursionError, and a
digit string past Python's limit on integer conversion raises a ValueError that is not a JSONDecodeError. Every such
case here becomes a JsonInputError whose message names the limit and says what to do.

The depth is measured without parsing: string literals are dropped first (so a bracket inside a string does not
count), then the brackets that remain are added up. Both steps are regular expressions over the text, linear in its
length whatever it holds.
"""

from __future__ import annotations

import json
import re
import sys
from itertools import accumulate
from typing import IO, Any

# The deepest document the console itself produces is a Graph synchronizationSchema whose expression trees reach
# the expression parser's own limit of 64 nested functions: 8 levels of wrapping plus 3 per function (a source,
# its parameters list, a parameter).
MAX_JSON_DEPTH = 200
# A mapping with every Salesforce User field mapped is well under 100 kB; anything far larger is the wrong file.
MAX_JSON_BYTES = 2_000_000

# A string literal, or an unterminated one running to the end of the text: each character is read once.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonInputError(ValueError):
    """The text is too large, too deeply nested or not JSON; the message says which and what to do."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text` (0 for a scalar), counted without parsing."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _too_large(what: str, size: str, max_bytes: int) -> JsonInputError:
    return JsonInputError(
        f"{what} has {size} bytes; at most {max_bytes:,} bytes of JSON are read. A mapping or application "
        "document is a few kilobytes: check that this is the right file."
    )


def load_json(
    text: str | bytes, *, what: str = "The document", max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """Parse `text` once its size and depth are within the limits; every failure is a JsonInputError naming its
    cause."""
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", errors="surrogatepass"))
    if size > max_bytes:
        raise _too_large(what, f"{size:,}", max_bytes)
    depth = nesting_depth(text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text)
    if depth > max_depth:
        raise JsonInputError(
            f"{what} nests arrays and objects {depth:,} levels deep; at most {max_depth} levels are read. "
            "No mapping or application document is nested that deeply: check that this is the right file."
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    except UnicodeDecodeError:
        raise JsonInputError(f"{what} is not UTF-8 text: save it as UTF-8 JSON.") from None
    except ValueError:  # Python refuses to convert integers of more than sys.get_int_max_str_digits() digits
        raise JsonInputError(
            f"{what} holds a number of more than {sys.get_int_max_str_digits():,} digits, which cannot be read."
        ) from None


def read_json_file(
    path: str, *, stdin: IO[str] | None = None, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """A JSON file ("-": `stdin`) for a command: no more than the size limit is read, then `load_json`."""
    what = "Standard input" if path == "-" else path
    try:
        if path == "-":
            text = (stdin or sys.stdin).read(max_bytes + 1)
        else:
            with open(path, "rb") as handle:
                text = handle.read(max_bytes + 1)
    except OSError as exc:
        raise JsonInputError(f"Cannot read {path}: {exc.strerror}.") from None
    if len(text) > max_bytes:
        raise _too_large(what, f"more than {max_bytes:,}", max_bytes)
    return load_json(text, what=what, max_bytes=max_bytes, max_depth=max_depth)
