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


def delta_round(rounds: dict[str, dict[str, Any]], skiptoken: str, generation: int) -> tuple[dict, dict] | None:
    """(the round of a delta query a $skiptoken continues, the token), or None when the round is unknown or from
    an earlier sync generation (the caller answers delta_gone())."""
    token = decode_token(skiptoken)
    round_ = rounds.get(token.get("r")) if isinstance(token, dict) else None
    if round_ is None or round_["g"] != generation:
        return None
    return round_, token


def delta_state(deltatoken: str, generation: int) -> dict[str, Any] | None:
    """What a $deltatoken carries, or None when it is not one of this sync generation."""
    token = decode_token(deltatoken)
    return token if isinstance(token, dict) and token.get("g") == generation else None


def delta_gone() -> Response:
    """Graph's answer to a delta token it no longer knows: 410 syncStateNotFound, start again."""
    return graph_error(
        410,
        "syncStateNotFound",
        "The sync state generation is not found or has expired. Please restart the sync from the beginning "
        "(resyncRequired).",
    )
