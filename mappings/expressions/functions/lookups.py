"""Functions that ask the systems around the user: DefaultDomain (the source tenant) and SelectUniqueValue (the
target). The caller gives the Context a TenantDirectory and a TargetDirectory; without them these fail for the
user with a message instead of guessing."""

from __future__ import annotations

from mappings.expressions.errors import EvaluationError
from mappings.expressions.functions.registry import function
from mappings.expressions.values import is_empty, to_str


@function("DefaultDomain()", 0)
def default_domain(ctx):
    """The tenant's default verified domain (Join("@", [mailNickname], DefaultDomain()) builds a UPN); an error when
    the tenant has none."""
    if ctx.directory is None:
        raise EvaluationError("the tenant's default domain cannot be read here (no Microsoft Entra connection)")
    domain = ctx.directory.default_domain()
    if not domain:
        raise EvaluationError("the tenant has no default verified domain (Entra admin center > Custom domain names)")
    return domain


@function("SelectUniqueValue(uniqueValueRule1, uniqueValueRule2, ...)", 2, None, lazy=True, top_level_only=True)
def select_unique_value(ctx, *rules):
    """The first rule whose value is not used yet in the target attribute: every rule is evaluated, then the
    candidates are checked in the target together, in one look-up. Rules without a value are passed over. When every
    candidate is taken the user fails (and is retried, like Entra's escrow). Top level only, as in Entra."""
    candidates = list(dict.fromkeys(to_str(v) for v in (rule(ctx) for rule in rules) if not is_empty(v)))
    if not candidates:
        return None
    if ctx.target is None or not ctx.target_attribute:
        raise EvaluationError(
            "the candidates cannot be checked for uniqueness here: no target attribute to look them up in (test it "
            "from its mapping row or name the Salesforce attribute)"
        )
    taken = ctx.target.taken(ctx.target_attribute, candidates)
    for candidate in candidates:
        if candidate not in taken:
            ctx.target.reserve(ctx.target_attribute, candidate)
            return candidate
    listed = ", ".join(repr(c) for c in candidates)
    raise EvaluationError(f"every candidate is already used by {ctx.target_attribute} in the target: {listed}")
