"""What every Graph route of the emulator answers with: the /v1.0 prefix, Graph's error body, paging tokens."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from emulators.server import Response

GRAPH = "/v1.0"


def graph_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    inner = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()),
        "client-request-id": str(uuid.uuid4()),
    }
    if status == 429:
        inner.update(code="429", message="Please retry after", status="429")
    return Response.json({"error": {"code": code, "message": message, "innerError": inner}}, status, headers)


def encode_token(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any] | None:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return None
