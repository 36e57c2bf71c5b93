"""Evaluate mappings: what each user in scope should hold in Salesforce, by the mapping compiled for the cycle.

The compiled mapping (mappings/compiled.py) applies Entra's flow rules; a value that cannot be computed for one user
(two app roles for SingleAppRoleAssignment, say) fails that user alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from mappings.compiled import CompiledMapping
from provisioning.engine.items import ItemError, WorkItem


def evaluate(items: Sequence[WorkItem], compiled: CompiledMapping) -> None:
    """Set item.desired for each item in scope that has not failed (None for the others)."""
    compiled.start_page()
    for item in items:
        if item.error or not item.in_scope or item.user is None:
            continue
        try:
            item.desired = compiled.evaluate(item.user, creating=item.target is None)
        except Exception as exc:  # MappingError, or anything else: this user only, the cycle goes on
            attribute = getattr(exc, "target_attribute", "")
            item.fail(
                ItemError(
                    "AttributeMappingError",
                    f"{attribute + ': ' if attribute else ''}{getattr(exc, 'message', None) or exc}",
                    "Fix the user's data or assignments in Entra, or the attribute mapping.",
                    step="processing",
                )
            )
