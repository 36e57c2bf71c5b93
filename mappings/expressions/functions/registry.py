"""The whitelist: every function an expression may call, with its arity and a one-line signature."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionSpec:
    """`impl(ctx, *args)` gets evaluated arguments (MISSING for skipped or absent optional ones, padded up to
    max_args when bounded); a `lazy` function gets argument closures `arg(ctx)` instead and evaluates what it needs."""

    name: str
    impl: Callable
    min_args: int
    max_args: int | None
    signature: str
    lazy: bool = False
    skippable: frozenset[int] | None = None  # argument slots that may be left empty; default: the optional ones
    top_level_only: bool = False

    def may_skip(self, index: int) -> bool:
        if self.skippable is not None:
            return index in self.skippable
        return index >= self.min_args

    def arity_text(self) -> str:
        if self.max_args == self.min_args:
            return f"{self.min_args} argument{'s' if self.min_args != 1 else ''}"
        if self.max_args is None:
            return f"at least {self.min_args} arguments"
        return f"{self.min_args} to {self.max_args} arguments"


FUNCTIONS: dict[str, FunctionSpec] = {}


def function(
    signature: str,
    min_args: int,
    max_args: int | None = -1,
    *,
    lazy: bool = False,
    skippable: tuple[int, ...] | None = None,
    top_level_only: bool = False,
) -> Callable[[Callable], Callable]:
    """Register the decorated implementation under the name that starts `signature`; max_args -1 means = min_args."""

    def register(impl: Callable) -> Callable:
        name = signature.split("(", 1)[0]
        FUNCTIONS[name] = FunctionSpec(
            name=name,
            impl=impl,
            min_args=min_args,
            max_args=min_args if max_args == -1 else max_args,
            signature=signature,
            lazy=lazy,
            skippable=frozenset(skippable) if skippable is not None else None,
            top_level_only=top_level_only,
        )
        return impl

    return register
