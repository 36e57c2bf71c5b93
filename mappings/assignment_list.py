"""The Users and groups list over the stored assignment snapshot, declared with the console's list mechanism
(console/lists.py): its filters are a form read from the URL (`q`, `type`, `role`, `warning`, so a filtered view can
be bookmarked), a value that does not validate is dropped with a message saying why while the other filters still
apply, and the pages are keyset pages in (lower-case display name, id) order with signed page tokens.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.db import connection
from django.db.models import CharField, F, Func, Q, QuerySet

from console.lists import ChoiceFilter, Filter, Keyset, ListFilters, SearchFilter
from mappings.directory import warnings
from mappings.directory.assignments import (
    DEFAULT_ACCESS_ID,
    DEFAULT_ACCESS_LABEL,
    AppRoles,
    is_default_access,
    role_label,
)
from mappings.directory.models import PrincipalType, SnapshotAssignment, SnapshotGrant, SnapshotUser
from mappings.directory.snapshot import key

PAGE_SIZE = 50
SEARCH_MAX = 100
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
ANY_WARNING = "any"
SEARCH_FIELDS = ("name_key", "upn_key", "mail_key")
PAGES = Keyset("name_key", salt="mappings.assignment_list")
# The list, searches included, pages in (name, id) order by the ids first (console/lists.py): the index
# snapshot_assignment_walk holds the order and every column a search or the type and warning filters test, so that
# finding a page walks that index only, however few of its rows match (a search of one letter matches a tenth of the
# rows and had the database read or sort thousands of them).
LIST_PAGES = Keyset("name_key", salt="mappings.assignment_list", ids_first=True)
# A search of three characters or more matches few rows: the database collects what the prefix indexes find and sorts
# it, through a copy of the key that no index holds (so that it does not walk the whole name order for a search that
# matches nothing). Shorter searches match many rows and walk the index (LIST_PAGES).
SEARCH_PAGES = Keyset("sort_key", salt="mappings.assignment_list.search")
WALKED_SEARCH = 2  # the longest search that walks the name order


def _unindexed(name: str) -> Func:
    return Func(F(name), template="(%(expressions)s || '')", output_field=CharField())


def role_choices(book: AppRoles, *, assignable: bool = True) -> list[tuple[str, str]]:
    """App roles by name, then Default Access: those that can be assigned (enabled), or every one (to filter by)."""
    roles = [
        (r["id"], role_label(r))
        for r in book.roles
        if r.get("id") and not is_default_access(r) and (r.get("isEnabled", True) or not assignable)
    ]
    return sorted(roles, key=lambda c: c[1].casefold()) + [(DEFAULT_ACCESS_ID, DEFAULT_ACCESS_LABEL)]


def _prefix(fields: Sequence[str], text: str) -> Q:
    """The start of any of `fields` (lower-case copies). PostgreSQL: LIKE 'x%' on the pattern-operator-class indexes
    of migration 0008. SQLite's LIKE ignores case and so never uses an index on a column of binary collation: there
    the same match is the range [x, x + U+10FFFF), which the indexes of migration 0010 serve."""
    start = key(text)
    match = Q()
    for name in fields:
        if connection.vendor == "sqlite":
            match |= Q(**{f"{name}__gte": start, f"{name}__lt": start + "\U0010ffff"})
        else:
            match |= Q(**{f"{name}__startswith": start})
    return match


def search_match(text: str) -> Q:
    """An object ID exactly, or the start of a display name, UPN or mail in any case: every branch is an index
    probe led by the application (the search indexes of migration 0008 on PostgreSQL)."""
    return Q(principal_id=text.lower()) if GUID.match(text) else _prefix(SEARCH_FIELDS, text)


class RoleFilter(Filter, forms.ChoiceField):
    """An app role by id. Any role id is taken: a role the application no longer defines still has assignments."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            error_messages={"invalid_choice": "Unknown role %(value)r; showing every role."},
            **kwargs,
        )

    def valid_value(self, value: str) -> bool:
        return bool(GUID.match(value))

    def narrow(self, value: str, form: ListFilters) -> Q:
        return Q(role_id=value)

    def describe(self, value: str, form: ListFilters) -> str:
        return dict(self.choices).get(value) or f"Role not defined ({value})"


class WarningFilter(Filter, forms.ChoiceField):
    """Assignments with one kind of warning, or with any that counts as a warning under the application's settings
    (the form's `kinds`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=[("", "All"), (ANY_WARNING, "Has a warning"), *((k.key, k.label) for k in warnings.KINDS)],
            required=False,
            error_messages={"invalid_choice": "Unknown warning %(value)r; showing every assignment."},
            **kwargs,
        )

    def narrow(self, value: str, form: ListFilters) -> Q:
        """The warning sets that hold one of the bits, as a list: an index probe (application, warnings) where a
        bitwise test would read every row, and an empty answer when no row has that warning costs nothing."""
        kinds = form.kinds if value == ANY_WARNING else (warnings.BY_KEY[value],)
        if form.counts is not None and not any(form.counts.get(kind.key) for kind in kinds):
            return Q(pk__in=[])  # the snapshot counted none: no query at all (Django answers an empty IN itself)
        return Q(warnings__in=warnings.sets_with(warnings.bits_of(kinds)))

    def describe(self, value: str, form: ListFilters) -> str:
        return str(dict(self.choices)[value])


class AssignmentFilters(ListFilters):
    """The filters of the Users and groups list; each maps onto an index led by the application
    (SnapshotAssignment.Meta.indexes, migration 0008)."""

    q = SearchFilter(
        label="Search",
        query=search_match,
        limit=SEARCH_MAX,
        help_text="The start of a display name, UPN or mail (any case), or an object ID.",
    )
    type = ChoiceFilter(PrincipalType, label="Object type", lookup="principal_type", noun="object type")
    role = RoleFilter(label="Role assigned")
    warning = WarningFilter(label="Warnings")

    def __init__(
        self,
        params: Mapping,
        *,
        book: AppRoles,
        kinds: Sequence[warnings.Kind],
        counts: Mapping[str, int] | None = None,
    ) -> None:
        """`counts`: the snapshot's warning counts (kept with its rows), when known: a warning no row has is then
        answered without a query."""
        self.kinds = kinds
        self.counts = counts
        self.base_fields["role"].choices = [("", "All"), *role_choices(book, assignable=False)]
        super().__init__(params)
        selected = self.value("role")
        if selected and selected not in dict(self.fields["role"].choices):
            self.fields["role"].choices = [*self.fields["role"].choices, (selected, f"Role not defined ({selected})")]

    @property
    def search(self) -> str:
        return self.value("q") or ""


def filtered_assignments(application, filters: AssignmentFilters) -> tuple[Keyset, QuerySet]:
    """The application's stored assignments matching the filters in (name, id) order, and the keyset that pages
    them."""
    rows = filters.apply(SnapshotAssignment.objects.filter(application=application))
    if len(filters.search) > WALKED_SEARCH:
        return SEARCH_PAGES, SEARCH_PAGES.order(rows.annotate(sort_key=_unindexed("name_key")))
    return LIST_PAGES, LIST_PAGES.order(rows)


def users_through_groups(application, text: str, limit: int = 20) -> list[SnapshotUser]:
    """Users a search matches among those reached only through groups (they have no row of their own): their ids
    first, from the index snapshot_user_walk alone (as LIST_PAGES reads the list), then those users."""
    users = SnapshotUser.objects.filter(application=application, direct=False)
    users = users.filter(user_id=text.lower()) if GUID.match(text) else users.filter(_prefix(SEARCH_FIELDS, text))
    order = _unindexed("name_key") if len(text) > WALKED_SEARCH else "name_key"
    ids = list(users.order_by(order, "user_id").values_list("pk", flat=True)[:limit])
    by_pk = {user.pk: user for user in SnapshotUser.objects.filter(pk__in=ids)}
    return [by_pk[pk] for pk in ids if pk in by_pk]


def member_match(text: str) -> Q:
    """A member by object ID, or by the start of their display name or UPN in any case."""
    return Q(user_id=text.lower()) if GUID.match(text) else _prefix(("name_key",), text) | Q(upn__istartswith=text)


class MemberFilters(ListFilters):
    """The search among the users one assignment reaches."""

    q = SearchFilter(
        label="Search members",
        query=member_match,
        limit=SEARCH_MAX,
        help_text="The start of a display name or UPN (any case), or an object ID.",
    )


def members_of(application, assignment_id: str, filters: MemberFilters) -> QuerySet:
    """The users an assignment reaches, in (name, id) order."""
    grants = SnapshotGrant.objects.filter(application=application, assignment_id=assignment_id)
    return PAGES.order(filters.apply(grants))
