"""Salesforce's REST error body, as every route of the emulator answers with it."""

from __future__ import annotations

from typing import Any

from emulators.server import Response


def sf_error(status: int, code: str, message: str, fields: list[str] | None = None, headers=None) -> Response:
    item: dict[str, Any] = {"message": message, "errorCode": code}
    if fields is not None:
        item["fields"] = fields
    return Response.json([item], status, headers)
