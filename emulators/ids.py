"""Salesforce-shaped record ids (15 characters plus the 3-character case checksum) and Graph-shaped GUIDs."""

from __future__ import annotations

import uuid

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def sf18(id15: str) -> str:
    """Append the checksum that makes a case-sensitive 15-character id safe for case-insensitive systems."""
    suffix = "".join(
        _CHECKSUM_ALPHABET[sum(1 << i for i, c in enumerate(id15[k : k + 5]) if "A" <= c <= "Z")] for k in (0, 5, 10)
    )
    return id15 + suffix


def to_id15(value: str) -> str | None:
    """Normalise a 15- or 18-character id to its 15-character form; None when it is not id-shaped."""
    if len(value) == 18 and sf18(value[:15]) == value:
        return value[:15]
    if len(value) == 15 and value.isalnum():
        return value
    return None


class IdFactory:
    """Sequential ids per key prefix: prefix (3) + pod "5g" + "0" + base-62 counter (9) + checksum."""

    def __init__(self, pod: str = "5g") -> None:
        self.pod = pod
        self.counters: dict[str, int] = {}

    def next(self, prefix: str) -> str:
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        digits = []
        for _ in range(9):
            n, r = divmod(n, 62)
            digits.append(_BASE62[r])
        return sf18(prefix + self.pod + "0" + "".join(reversed(digits)))


def guid(namespace: str, name: str) -> str:
    """A deterministic GUID, so a seed always yields the same object ids."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{name}"))
