"""Salesforce-shaped record ids (15 characters plus the 3-character case checksum) and Graph-shaped GUIDs."""

from __future__ import annotations

import uuid

_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_PAIRS = [a + b for a in _BASE62 for b in _BASE62]  # two base-62 digits of 0..3843


class _UpperBits(dict):
    """str.translate table: an upper-case ASCII letter is "1", any other character "0"."""

    def __missing__(self, code: int) -> str:
        return "0"


_UPPER_BITS = _UpperBits({code: "1" if 65 <= code <= 90 else "0" for code in range(128)})
# A 5-character block's upper-case pattern ("1" where character i is upper case) -> its checksum character, whose
# index in _CHECKSUM_ALPHABET has bit i set for each of those characters.
_BLOCK_CHECKSUM = {format(n, "05b")[::-1]: _CHECKSUM_ALPHABET[n] for n in range(32)}


def sf18(id15: str) -> str:
    """Append the checksum that makes a case-sensitive 15-character id safe for case-insensitive systems (every id the
    emulator hands out or is sent goes through this: one str.translate and three look-ups)."""
    bits = id15.translate(_UPPER_BITS).ljust(15, "0")  # a shorter text: its missing characters are not upper case
    return id15 + _BLOCK_CHECKSUM[bits[0:5]] + _BLOCK_CHECKSUM[bits[5:10]] + _BLOCK_CHECKSUM[bits[10:15]]


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
        # The counter's last 9 base-62 digits: four pairs of digits at a time, then the first digit.
        n, d89 = divmod(n, 3844)
        n, d67 = divmod(n, 3844)
        n, d45 = divmod(n, 3844)
        n, d23 = divmod(n, 3844)
        digits = _BASE62[n % 62] + _PAIRS[d23] + _PAIRS[d45] + _PAIRS[d67] + _PAIRS[d89]
        return sf18(prefix + self.pod + "0" + digits)


def guid(namespace: str, name: str) -> str:
    """A deterministic GUID, so a seed always yields the same object ids."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{name}"))
