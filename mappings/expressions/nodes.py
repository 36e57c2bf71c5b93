"""The expression tree: small immutable nodes, comparable and hashable, with their position in the text."""

from __future__ import annotations

from dataclasses import dataclass, field

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
    """An integer literal; `hex` keeps the &H spelling for printing back."""

    value: int
    hex: bool = False
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


Node = Call | Attribute | String | Number | Missing | Comparison


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
