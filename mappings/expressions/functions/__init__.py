"""The function table; importing this package registers every function."""

from mappings.expressions.functions import dates, logic, lookups, replace, roles, text  # noqa: F401  (registration)
from mappings.expressions.functions.registry import FUNCTIONS, FunctionSpec

__all__ = ["FUNCTIONS", "FunctionSpec"]
