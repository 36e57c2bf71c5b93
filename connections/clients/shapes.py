"""The documented shape of each answer the console reads, checked in one place.

A 200 whose body is not what Microsoft Graph or Salesforce document (an HTML page from a proxy, an outage page,
a collection without its `value` list, an item without its `id`, a query answer without `records`) is an error of
that call: UnexpectedAnswer, naming the call and what was wrong. It is never read as an empty collection: an empty
list of a group's members or of a user's assignments would take people out of scope and deactivate them.

UnexpectedAnswer is transient (a proxy's error page usually passes): the cycle treats it as a failed read, never as
an answer.
"""

from __future__ import annotations

from typing import Any

import requests

from connections.clients.errors import TransientError

GRAPH = "Microsoft Graph"
SALESFORCE = "Salesforce"
MAX_QUOTED = 60  # characters of an unexpected body quoted in the message


class UnexpectedAnswer(TransientError):
    """A successful status with a body that does not have the documented shape."""

    default_code = "UNEXPECTED_ANSWER"


def _fail(system: str, call: str, problem: str) -> UnexpectedAnswer:
    return UnexpectedAnswer(
        f"{system} answered {call or 'a call'} with {problem}; the answer was not used.",
        recommendation="This is often a proxy or an outage page; nothing was changed because of it, and the next "
        "cycle reads again. If it persists, check the network path to the service.",
        request=call,
    )


def json_body(response: requests.Response, call: str, system: str = GRAPH) -> Any:
    """The JSON of a successful answer ({} for an empty one); anything that is not JSON is an UnexpectedAnswer."""
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        kind = (response.headers.get("Content-Type") or "").split(";")[0].strip() or "no content type"
        start = response.content[:MAX_QUOTED].decode("utf-8", "replace").strip().replace("\n", " ")
        what = "an HTML page" if "html" in kind or start.lower().startswith(("<!doctype", "<html")) else kind
        raise _fail(system, call, f"{what} instead of JSON (it begins {start!r})") from None


def not_json(system: str, call: str) -> UnexpectedAnswer:
    """The error of a successful answer that is not JSON, when the body is not at hand (the library parsed it)."""
    return _fail(system, call, "something that is not JSON (an HTML page from a proxy, perhaps)")


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    for kind, name in ((bool, "a boolean"), (dict, "an object"), (list, "a list"), (str, "a string")):
        if isinstance(value, kind):
            return name
    return "a number" if isinstance(value, int | float) else type(value).__name__


def graph_page(body: Any, call: str, *, ids: bool = True) -> dict:
    """A Graph collection page: an object with a `value` list of objects (each with a string `id` when `ids`),
    `@odata.nextLink` and `@odata.deltaLink`, when present, strings."""
    if not isinstance(body, dict):
        raise _fail(GRAPH, call, f"{_type_name(body)} instead of a collection page")
    value = body.get("value")
    if "value" not in body:
        raise _fail(GRAPH, call, "a page without its `value` list")
    if not isinstance(value, list):
        raise _fail(GRAPH, call, f"`value` being {_type_name(value)}, not a list")
    for position, item in enumerate(value):
        if not isinstance(item, dict):
            raise _fail(GRAPH, call, f"item {position} of `value` being {_type_name(item)}, not an object")
        if ids and not (isinstance(item.get("id"), str) and item["id"]):
            raise _fail(GRAPH, call, f"item {position} of `value` without its `id`")
    for link in ("@odata.nextLink", "@odata.deltaLink"):
        if link in body and not isinstance(body[link], str):
            raise _fail(GRAPH, call, f"`{link}` being {_type_name(body[link])}, not a link")
    return body


def graph_object(body: Any, call: str) -> dict:
    """One Graph object (a user, a manager): an object with a string `id`."""
    if not isinstance(body, dict):
        raise _fail(GRAPH, call, f"{_type_name(body)} instead of an object")
    if not (isinstance(body.get("id"), str) and body["id"]):
        raise _fail(GRAPH, call, "an object without its `id`")
    return body


def graph_batch(body: Any, call: str) -> list[dict]:
    """The `responses` of a JSON batch: a list of objects, each with an `id` and a numeric `status`."""
    responses = body.get("responses") if isinstance(body, dict) else None
    if not isinstance(responses, list):
        raise _fail(GRAPH, call, "a batch answer without its `responses` list")
    for position, answer in enumerate(responses):
        if not isinstance(answer, dict) or "id" not in answer or not isinstance(answer.get("status"), int):
            raise _fail(GRAPH, call, f"batch response {position} without its `id` and `status`")
    return responses


def salesforce_query(body: Any, call: str) -> dict:
    """A SOQL query answer: an object with a `records` list of objects, `done` true or false, and a string
    `nextRecordsUrl` when not done."""
    if not isinstance(body, dict):
        raise _fail(SALESFORCE, call, f"{_type_name(body)} instead of a query result")
    records = body.get("records")
    if not isinstance(records, list):
        problem = "no `records` list" if "records" not in body else f"`records` being {_type_name(records)}"
        raise _fail(SALESFORCE, call, f"a query result with {problem}")
    if not all(isinstance(record, dict) for record in records):
        raise _fail(SALESFORCE, call, "a query result whose `records` are not all records")
    done = body.get("done")
    if not isinstance(done, bool):
        raise _fail(SALESFORCE, call, f"a query result whose `done` is {_type_name(done)}, not true or false")
    if not done and not (isinstance(body.get("nextRecordsUrl"), str) and body["nextRecordsUrl"]):
        raise _fail(SALESFORCE, call, "a query result that is not done and has no `nextRecordsUrl`")
    return body
