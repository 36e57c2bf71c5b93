"""The two ways an expression goes wrong: it cannot be understood, or it fails for one user."""

from __future__ import annotations


class ExpressionError(ValueError):
    """The text is not a valid expression. `position` is the 0-based offset of the culprit in the text."""

    def __init__(self, message: str, position: int, hint: str = "") -> None:
        self.message = message
        self.position = position
        self.hint = hint
        super().__init__(str(self))

    @property
    def column(self) -> int:
        return self.position + 1

    def __str__(self) -> str:
        text = f"{self.message} (column {self.column})"
        return f"{text}; usage: {self.hint}" if self.hint else text


class EvaluationError(Exception):
    """A valid expression failed for one user (e.g. two app roles): that user fails, the cycle goes on."""

    def __init__(self, message: str, function: str = "") -> None:
        self.message = message
        self.function = function
        super().__init__(message)

    def __str__(self) -> str:
        if self.function:
            return f"An error occurred while evaluating the function '{self.function}': {self.message}"
        return self.message
