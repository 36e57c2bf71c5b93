"""The expression tree: small immutable nodes, comparable and hashable, with their position in the text."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

COMPARISON_OPERATORS = ("=", "<>", ">=", "<=", ">", "<")


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...] = ()
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Attribute:
    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class String:
    value: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Number:
    """A number literal: whole (`42`, `-7`), decimal (`42568.75`, a Decimal so it prints back as written) or
    hexadecimal (`&HF7`, `hex` keeps that spelling for printing back)."""

    value: int | Decimal
    hex: bool = False
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class VbConstant:
    """A VB constant written as a bare word, as Microsoft's examples do: `InStr(..., vbBinaryCompare)`."""

    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Missing:
    """A skipped optional argument: the empty slot in `Replace([mail], "@contoso.com", , , "", , )`."""

    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Comparison:
    """`left op right`, allowed only as the condition of IIF and the argument of CBool."""

    op: str
    left: Node
    right: Node
    position: int = field(default=0, compare=False)


Node = Call | Attribute | String | Number | VbConstant | Missing | Comparison


def walk(node: Node):
    """Every node of the tree, depth first, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Call):
            stack.extend(reversed(current.args))
        elif isinstance(current, Comparison):
            stack.extend((current.right, current.left))
