"""The warnings of the Users and groups page, computed when the assignment snapshot is refreshed and stored with it
(a bit set on each assignment and each user, counts on the snapshot), so that a page view recomputes nothing.

- Default Access is not a Salesforce profile: SingleAppRoleAssignment gives nothing, so ProfileName falls back to
  its default (Chatter Free User in the default mapping) or the user fails for want of a profile.
- Several roles (two assignments of their own, or a group's role beside another): while the ProfileName
  expression decides the profile (SingleAppRoleAssignment), only one of them is provisioned and Entra gives no
  guarantee which. With "Profile from the app role with the lowest precedence number" on, the precedence decides
  and several roles are by design: they are then shown as notes, not counted as warnings.
- Direct beside group: a member of a group assigned another role who is also assigned directly.
- An app role the application no longer defines: the user's profile would be the role's id.
- An assignment that reaches nobody: a group without user members, or a service principal.

A group's assignment reaches the members of groups nested inside it too, exactly as cycles provision them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mappings.directory.models import PrincipalType


@dataclass(frozen=True)
class Kind:
    key: str  # the value of ?warning= in the URL
    bit: int
    label: str  # badge and filter choice
    counts: str  # what its count counts: "assignment" or "user"
    profile_only: bool = False  # a warning only while the ProfileName expression decides the profile


DEFAULT_ACCESS = Kind("default_access", 1, "Default Access", "assignment")
SEVERAL_ROLES = Kind("several_roles", 2, "Several roles", "user", profile_only=True)
DIRECT_AND_GROUP = Kind("direct_and_group", 4, "Direct beside group", "user", profile_only=True)
MISSING_ROLE = Kind("missing_role", 8, "Role not defined", "assignment")
REACHES_NOBODY = Kind("reaches_nobody", 16, "Reaches nobody", "assignment")
KINDS = (DEFAULT_ACCESS, SEVERAL_ROLES, DIRECT_AND_GROUP, MISSING_ROLE, REACHES_NOBODY)
BY_KEY = {kind.key: kind for kind in KINDS}
USER_BITS = SEVERAL_ROLES.bit | DIRECT_AND_GROUP.bit  # what a user carries (and passes on to their groups' rows)


def active_kinds(profile_by_precedence: bool) -> tuple[Kind, ...]:
    """The kinds that count as warnings under the application's settings (the others are notes)."""
    return tuple(k for k in KINDS if not (k.profile_only and profile_by_precedence))


def bits_of(kinds: Iterable[Kind]) -> int:
    bits = 0
    for kind in kinds:
        bits |= kind.bit
    return bits


ALL_BITS = bits_of(KINDS)


def sets_with(bits: int) -> list[int]:
    """Every warning set (a row's `warnings`) that holds at least one of `bits`."""
    return [value for value in range(1, ALL_BITS + 1) if value & bits]


def kinds_in(bits: int) -> list[Kind]:
    return [kind for kind in KINDS if bits & kind.bit]


def user_warnings(grants: Iterable[tuple[str, bool]]) -> tuple[tuple[str, ...], int]:
    """(the user's app role ids, sorted, Default Access left out; their warning bits) from the (role id, through a
    group) pairs of every assignment that reaches them."""
    direct: set[str] = set()
    grouped: set[str] = set()
    for role_id, through_group in grants:
        (grouped if through_group else direct).add(role_id)
    roles = tuple(sorted((direct | grouped) - {""}))
    bits = 0
    if len(roles) > 1:
        bits |= SEVERAL_ROLES.bit
        if direct and grouped and (grouped - {""}) != (direct - {""}):
            bits |= DIRECT_AND_GROUP.bit
    return roles, bits


def assignment_warnings(
    *, principal_type: str, default_access: bool, role_defined: bool, members: int | None, member_bits: int
) -> int:
    """An assignment's warning bits: its own, plus those of the user it names or of the group members it reaches."""
    bits = member_bits & USER_BITS
    if default_access:
        bits |= DEFAULT_ACCESS.bit
    elif not role_defined:
        bits |= MISSING_ROLE.bit
    if principal_type not in (PrincipalType.USER, PrincipalType.GROUP) or (
        principal_type == PrincipalType.GROUP and not members
    ):
        bits |= REACHES_NOBODY.bit
    return bits


def count_warnings(assignment_bits: Iterable[int], user_bits: Iterable[int]) -> dict[str, int]:
    """{kind key: how many} with assignment kinds counted over assignments and user kinds over users."""
    counts = dict.fromkeys((k.key for k in KINDS), 0)
    for bits in assignment_bits:
        for kind in KINDS:
            if kind.counts == "assignment" and bits & kind.bit:
                counts[kind.key] += 1
    for bits in user_bits:
        for kind in KINDS:
            if kind.counts == "user" and bits & kind.bit:
                counts[kind.key] += 1
    return counts


def explain(kind: Kind, count: int, *, profile_default: str | None, profile_by_precedence: bool) -> str:
    """What `count` of `kind` mean and what to do, as the page's summary says it."""
    fallback = (
        f"ProfileName gets its default value {profile_default!r} when the user is created"
        if profile_default
        else "ProfileName gets no value and creating the user fails (the mapping has no default profile)"
    )
    many = count != 1
    if kind is DEFAULT_ACCESS:
        return (
            f"{count} assignment{'s' if many else ''} with Default Access, which is not a Salesforce profile: "
            f"SingleAppRoleAssignment([appRoleAssignments]) gives no value, so {fallback}. Assign one of the "
            "imported profile roles instead."
        )
    if kind is SEVERAL_ROLES:
        if profile_by_precedence:
            return (
                f"{count} user{'s' if many else ''} receive{'' if many else 's'} more than one role: the profile comes "
                "from the role with the lowest precedence number and the Salesforce access of every role is given."
            )
        return (
            f"{count} user{'s' if many else ''} receive{'' if many else 's'} more than one role: "
            "SingleAppRoleAssignment([appRoleAssignments]) provisions only one of them (Entra gives no guarantee "
            'which; this console takes the first by name). Keep one role per user, or turn on "Profile from the '
            'app role with the lowest precedence number" under Salesforce access.'
        )
    if kind is DIRECT_AND_GROUP:
        return (
            f"{count} user{'s are members' if many else ' is a member'} of a group assigned another role and "
            f"{'are' if many else 'is'} also assigned directly."
        )
    if kind is MISSING_ROLE:
        return (
            f"{count} assignment{'s name' if many else ' names'} an app role the application no longer defines: "
            "the role's id would be provisioned as the profile. Assign one of the defined roles."
        )
    return (
        f"{count} assignment{'s reach' if many else ' reaches'} nobody (a group without user members, or a service "
        "principal): no user is provisioned through "
        f"{'them' if many else 'it'}."
    )


def summary(
    counts: Mapping[str, int], *, profile_default: str | None, profile_by_precedence: bool
) -> tuple[list[tuple[Kind, int, str]], list[tuple[Kind, int, str]]]:
    """(warnings, notes): each (kind, count, text) with a count, warnings first in the order of KINDS."""
    active = active_kinds(profile_by_precedence)
    warnings, notes = [], []
    for kind in KINDS:
        count = int(counts.get(kind.key) or 0)
        if count:
            text = explain(kind, count, profile_default=profile_default, profile_by_precedence=profile_by_precedence)
            (warnings if kind in active else notes).append((kind, count, text))
    return warnings, notes
