from datetime import UTC, datetime

from mappings.expressions import evaluate, parse

FIXED_NOW = datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)


def ev(text: str, user: dict | None = None, **attributes):
    """Evaluate `text` for a user made of `user` and keyword attributes, at a fixed clock."""
    return evaluate(parse(text), {**(user or {}), **attributes}, now=FIXED_NOW)
