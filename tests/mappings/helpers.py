from datetime import UTC, datetime

from mappings.expressions import evaluate, parse

FIXED_NOW = datetime(2024, 3, 5, 14, 7, 9, tzinfo=UTC)


def ev(text: str, user: dict | None = None, lookups: dict | None = None, **attributes):
    """Evaluate `text` for a user made of `user` and keyword attributes, at a fixed clock; `lookups` are the
    Context's directory, target and target_attribute."""
    return evaluate(parse(text), {**(user or {}), **attributes}, now=FIXED_NOW, **(lookups or {}))


class Tenant:
    """A source tenant with a default verified domain (or none)."""

    def __init__(self, domain: str | None) -> None:
        self.domain = domain

    def default_domain(self) -> str | None:
        return self.domain


class Target:
    """A target system holding `existing` values; records every look-up."""

    def __init__(self, *existing: str) -> None:
        self.existing = set(existing)
        self.lookups: list[tuple[str, list[str]]] = []

    def taken(self, attribute: str, candidates) -> set[str]:
        self.lookups.append((attribute, list(candidates)))
        return self.existing & set(candidates)

    def reserve(self, attribute: str, value: str) -> None:
        self.existing.add(value)
