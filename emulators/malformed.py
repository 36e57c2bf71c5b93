"""Answers of the wrong shape: a 200 whose body is not what the real service documents (a proxy's HTML page, a
collection without `value`, an item without `id`, a query result without `records`). Clients must take them for
an error of the call, never for an empty answer.

A rule applies to the next `count` answers whose path and query (`/v1.0/users?$top=999`) match `path` (a regular
expression, searched) and whose
method is `method` (when given); the answer keeps status 200 and gets the body `shape` describes.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any

SHAPES = (
    "html",  # an HTML page, Content-Type text/html
    "not_json",  # plain text
    "no_value",  # a Graph collection without `value`
    "value_not_list",  # `value` an object
    "item_without_id",  # the first item of `value` without its `id`
    "next_link_not_string",  # `@odata.nextLink` a number
    "empty_object",  # {} (a manager, a user)
    "no_records",  # a Salesforce query result without `records`
    "records_not_list",  # `records` an object
    "done_missing",  # `done` left out
    "not_done_without_next",  # `done` false, no `nextRecordsUrl`
)
HTML = b"<!DOCTYPE html><html><head><title>Service unavailable</title></head><body>Try again later</body></html>"


@dataclass
class Rule:
    path: str
    shape: str
    count: int
    method: str = ""


class MalformedAnswers:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.rules: list[Rule] = []

    def add(self, path: str, shape: str, count: int = 1, method: str = "") -> None:
        re.compile(path)  # a bad pattern is refused here, not at the next request
        if shape not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}")
        with self.lock:
            self.rules.append(Rule(path, shape, count, method.upper()))

    def reset(self) -> None:
        with self.lock:
            self.rules = []

    def take(self, method: str, path: str, status: int) -> str | None:
        """The shape the answer to this call gets (one use of the first matching rule), None for none."""
        if status != 200 or not self.rules:
            return None
        with self.lock:
            for rule in self.rules:
                if rule.count > 0 and re.search(rule.path, path) and (not rule.method or rule.method == method):
                    rule.count -= 1
                    return rule.shape
        return None


def malformed_body(shape: str, body: bytes) -> tuple[bytes, str]:
    """(body, content type) of the answer in `shape`, from the answer's own JSON body."""
    if shape == "html":
        return HTML, "text/html; charset=utf-8"
    if shape == "not_json":
        return b"upstream connect error or disconnect/reset before headers", "text/plain"
    try:
        payload: Any = json.loads(body) if body else {}
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    if shape == "no_value":
        payload.pop("value", None)
    elif shape == "value_not_list":
        payload["value"] = {"items": payload.get("value")}
    elif shape == "item_without_id":
        items = payload.get("value") or [{"displayName": "someone"}]
        items[0] = {k: v for k, v in items[0].items() if k != "id"}
        payload["value"] = items
    elif shape == "next_link_not_string":
        payload["@odata.nextLink"] = 12
    elif shape == "empty_object":
        payload = {}
    elif shape == "no_records":
        payload.pop("records", None)
    elif shape == "records_not_list":
        payload["records"] = {"size": len(payload.get("records") or [])}
    elif shape == "done_missing":
        payload.pop("done", None)
    elif shape == "not_done_without_next":
        payload["done"] = False
        payload.pop("nextRecordsUrl", None)
    return json.dumps(payload).encode(), "application/json;charset=UTF-8"
