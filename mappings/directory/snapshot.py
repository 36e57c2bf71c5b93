"""The stored snapshot of an application's assignments: the same assignment data the engine provisions from, kept
in the database so that the Users and groups page reads it without a Graph call.

One reader, one stored model:

- `refresh(application, reader, source)` reads everything through the AssignmentReader: the app roles, the
  appRoleAssignedTo pages, the assigned groups' user members with nested groups expanded (20 groups to a Graph call)
  and the UPN and mail of users assigned directly (all of them on Refresh from Entra; in a cycle only those new to
  the snapshot, so that cycles keep the Graph calls they made before). It computes each user's app roles and the
  warnings (warnings.py) and stores the lot in one transaction, writing only the rows that changed. Its memory is
  that of the read (the rows Graph listed, the members of the groups, one shared tuple of figures per user): the
  three tables' rows are made from it one table at a time as they are written or compared. Cycles call it before
  they provision and then read each page's roles from the stored rows (StoredRoles), or from the map it read when it
  could not be stored (`Refreshed.roles_by_user`); Refresh from Entra on the page calls it through a task.
- `apply(application, book, added=, removed=, joined=, left=)` puts changes into the snapshot and recomputes only
  what they touch: the affected users' roles and warnings, the figures of the assignments that reach them, the
  counts. Add and Remove assignment on the page use it at once.
- `StoredAssignments(application)` answers the AssignmentSource protocol from the stored rows.

Fail-safe: a read that fails part-way raises before anything is written. The previous snapshot stays whole, the
error is noted beside it (shown on the page) and the caller gets the error: a cycle ends with it. Nothing ever
stores "nobody is assigned" because a read went wrong. A read that began before the stored rows' newest change (an
assignment added here meanwhile) is not stored over them.

Incremental cycles keep the snapshot current from what changed instead of a full read (changes.py), without the page
changing: membership changes of the assigned groups (groups/delta, members@delta) become `joined` / `left` per group,
assignments that appear or disappear in appRoleAssignedTo become `added` (with the users each reaches) and `removed`;
`apply` then does exactly what it does for the page's own changes, and the cycle reads the roles of the users
concerned from the stored rows (`StoredAssignments.roles_for`). A full refresh stays the reconciliation. The page
reads only the stored rows (mappings/assignment_list.py).
"""

from __future__ import annotations

import hashlib
import marshal
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import islice
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, F
from django.utils import timezone
from django_q.tasks import async_task

from connections.clients.errors import RemoteError
from connections.clients.graph import GraphClient
from connections.models import Application
from console.bulk import insert_rows
from mappings.directory import warnings
from mappings.directory.assignments import (
    DETAILS_SELECT,
    AppRoles,
    AssignedRole,
    AssignmentReader,
    AssignmentRow,
    Grant,
)
from mappings.directory.models import (
    KEY_LENGTH,
    AssignmentSnapshot,
    PrincipalType,
    SnapshotAssignment,
    SnapshotGrant,
    SnapshotSource,
    SnapshotUser,
)

NAME_LENGTH = 512
WRITE_BATCH = 2000
ASSIGNMENT_FIELDS = (
    "assignment_id", "principal_id", "principal_type", "display_name", "upn", "mail", "name_key", "upn_key",
    "mail_key", "role_id", "role_label", "default_access", "created", "members", "members_warned", "warnings",
)  # fmt: skip
GRANT_FIELDS = ("assignment_id", "user_id", "display_name", "upn", "mail", "name_key")
USER_FIELDS = (
    "user_id", "display_name", "upn", "mail", "name_key", "upn_key", "mail_key", "role_ids", "direct", "groups",
    "warnings",
)  # fmt: skip


def key(text: str) -> str:
    """The lower-case copy a name, UPN or mail is ordered and searched by."""
    return text.lower()[:KEY_LENGTH]


def snapshot_of(application: Application) -> AssignmentSnapshot:
    return AssignmentSnapshot.objects.get_or_create(application=application)[0]


@dataclass(slots=True)
class Person:
    """What the page shows of a user."""

    name: str
    upn: str = ""
    mail: str = ""

    @classmethod
    def of(cls, user: Mapping) -> Person:
        return cls(
            (user.get("displayName") or user.get("userPrincipalName") or user.get("id") or "")[:NAME_LENGTH],
            (user.get("userPrincipalName") or "")[:NAME_LENGTH],
            (user.get("mail") or "")[:NAME_LENGTH],
        )


@dataclass
class Refreshed:
    """What a refresh read: the map cycles provision from (None when stored and not asked for), and whether it was
    stored."""

    roles_by_user: dict[str, tuple[str, ...]] | None
    stored: bool
    assignments: int
    reached: int
    graph_calls: int
    seconds: float
    # Why the read is incomplete (a group whose members could not be read), one text each; empty when complete.
    incomplete: list[str] = field(default_factory=list)
    # Users assigned directly stored without UPN and mail, left to the caller's own read of every user (PeopleNames).
    unnamed: int = 0
    # Seconds of each step (read from Graph, compute the roles and warnings, store the rows), for the benchmark.
    steps: dict[str, float] = field(default_factory=dict)


@dataclass
class _Directory:
    """One full read: the rows, whom each reaches, and what is known of each user."""

    book: AppRoles
    rows: dict[str, AssignmentRow] = field(default_factory=dict)
    # Assignment id -> the user ids a group's assignment reaches (a user's own assignment reaches that user: _reached).
    reach: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # User id -> what is known of them; a bare name for a user known only by their own assignment (a Person each
    # would be a million objects in a large tenant: _person makes one when a row is written).
    people: dict[str, Person | str] = field(default_factory=dict)
    unread: dict[str, RemoteError] = field(default_factory=dict)  # group id -> why its members could not be read
    unnamed: int = 0  # users assigned directly whose UPN and mail were left to PeopleNames


# Reading ---------------------------------------------------------------------------------------------------------


def _read(
    reader: AssignmentReader,
    known: Mapping[str, Person] | None = None,
    application: Application | None = None,
    *,
    named_later: bool = False,
) -> _Directory:
    """Everything the snapshot holds, from Graph. Raises RemoteError; nothing is stored by reading.

    `known`: UPN and mail of users assigned directly, from the stored rows: only users not in it are read (their
    display name comes with the assignment anyway). With `named_later`, not even those: the caller reads every user
    of the tenant anyway (a full cycle) and gives their UPN and mail to PeopleNames, instead of a second list of
    the tenant's users here. With `application` (a cycle), a group whose members could not be read does not end the
    read: it is noted in `unread` and reaches the members the stored snapshot last knew."""
    directory = _Directory(reader.book())
    known = known or {}
    lookup = reader.user_lookup(DETAILS_SELECT)
    try:
        to_look_up = 0
        for row in reader.assignments():
            directory.rows[row.id] = row
            if not named_later and row.principal_type == PrincipalType.USER and row.principal_id not in known:
                to_look_up += 1
                if to_look_up % 1000 == 0:
                    lookup.expect(to_look_up)  # the whole user list, when cheaper, is read beside what follows
        unread = directory.unread if application is not None else None
        for grant in reader.grants(list(directory.rows.values()), DETAILS_SELECT, unread):
            if grant.direct:
                continue  # a user's own assignment reaches that user (_reached)
            directory.reach[grant.assignment.id].append(grant.user_id)
            if grant.user_id not in directory.people:  # a member of several groups: once
                directory.people[grant.user_id] = Person.of(grant.user)
        if directory.unread and application is not None:
            _last_known_members(application, directory)
        direct = {
            row.principal_id: row
            for row in directory.rows.values()
            if row.principal_type == PrincipalType.USER
            and row.principal_id
            and row.principal_id not in directory.people
        }
        for user_id, row in direct.items():
            if user_id in known:
                directory.people[user_id] = Person(
                    row.principal_name[:NAME_LENGTH], known[user_id].upn, known[user_id].mail
                )
        unknown = [user_id for user_id in direct if user_id not in known]
        if named_later:
            directory.unnamed = len(unknown)
        else:
            for user in lookup.read(unknown):
                if user.get("id"):
                    directory.people[user["id"]] = Person.of(user)
    finally:
        lookup.cancel()
    for user_id, row in direct.items():  # a user deleted since appRoleAssignedTo listed them keeps that name
        if user_id not in directory.people:
            directory.people[user_id] = row.principal_name[:NAME_LENGTH]
    return directory


def _reached(directory: _Directory, row: AssignmentRow) -> list[str]:
    """The users an assignment reaches: a user's own assignment that user, a group's its members as read."""
    if row.principal_type == PrincipalType.USER:
        return [row.principal_id] if row.principal_id else []
    return directory.reach.get(row.id, [])


def _person(directory: _Directory, user_id: str) -> Person:
    known = directory.people.get(user_id)
    if known is None:
        return Person(user_id)
    return known if isinstance(known, Person) else Person(known)


def _name_key(directory: _Directory, user_id: str) -> str:
    """key() of the name _person gives, without making the Person."""
    known = directory.people.get(user_id)
    if known is None:
        return key(user_id)
    return key(known.name if isinstance(known, Person) else known)


def _last_known_members(application: Application, directory: _Directory) -> None:
    """The members the stored snapshot holds for the assignments of groups that could not be read."""
    unread = directory.unread
    groups = (row for row in directory.rows.values() if row.principal_type == PrincipalType.GROUP)
    assignments = [row.id for row in groups if row.principal_id in unread]
    grants = SnapshotGrant.objects.filter(application=application, assignment_id__in=assignments)
    for assignment_id, user_id, name, upn, mail in grants.values_list(
        "assignment_id", "user_id", "display_name", "upn", "mail"
    ).iterator(5000):
        directory.reach[assignment_id].append(user_id)
        directory.people.setdefault(user_id, Person(name, upn, mail))


def _known_people(application: Application) -> dict[str, Person]:
    """UPN and mail of the users assigned directly, as stored (a user stored without a UPN, whom PeopleNames did
    not reach, is read again)."""
    users = SnapshotUser.objects.filter(application=application, direct=True).exclude(upn="")
    return {
        user_id: Person(name, upn, mail)
        for user_id, name, upn, mail in users.values_list("user_id", "display_name", "upn", "mail").iterator(5000)
    }


# Computing -------------------------------------------------------------------------------------------------------


# A user's figures: (role ids, assigned directly, groups that reach them, warning bits). Users alike share one tuple.
_Shape = tuple[tuple[str, ...], bool, int, int]


@dataclass
class _Computed:
    """What a read gives each table, kept as little as possible: the read itself and each user's figures. The rows
    are made from them a table at a time, in the order they are written (`rows`), and looked up one by one when a
    table is compared with the stored one (`row`): a read of a million assignments held three tables of tuples."""

    directory: _Directory
    users: dict[str, _Shape]  # user id -> their figures
    figures: dict[str, tuple[int | None, int, int]]  # group (not user) assignment id -> (members, warned, bits)
    _members: dict[str, set[str]] = field(default_factory=dict)  # group assignment id -> its members, once asked

    def assignment_figures(self, row: AssignmentRow) -> tuple[int | None, int, int]:
        found = self.figures.get(row.id)
        return found if found is not None else _assignment_figures(self.directory, row, self.users)

    def assignment_values(self, row: AssignmentRow) -> tuple:
        members, warned, bits = self.assignment_figures(row)
        directory = self.directory
        person = _person(directory, row.principal_id) if row.principal_type == PrincipalType.USER else None
        return _assignment_values(row, person, members, warned, bits)

    def user_values(self, user_id: str) -> tuple:
        role_ids, direct, groups, bits = self.users[user_id]
        return _user_values(user_id, _person(self.directory, user_id), role_ids, direct, groups, bits)

    def grant_values(self, assignment_id: str, user_id: str) -> tuple:
        person = _person(self.directory, user_id)
        return (assignment_id, user_id, person.name, person.upn, person.mail, key(person.name))

    def rows(self, model: type[models.Model]) -> Iterator[tuple]:
        """The model's rows in the order they are written and digested in (that of the table's main index)."""
        directory = self.directory
        if model is SnapshotUser:
            for user_id in sorted(self.users, key=lambda uid: (_name_key(directory, uid), uid)):
                yield self.user_values(user_id)
        elif model is SnapshotAssignment:
            for assignment_id in sorted(directory.rows, key=lambda aid: (_row_name_key(directory.rows[aid]), aid)):
                yield self.assignment_values(directory.rows[assignment_id])
        else:
            for assignment_id in sorted(directory.rows):
                reached = dict.fromkeys(_reached(directory, directory.rows[assignment_id]))
                for user_id in sorted(reached, key=lambda uid: (_name_key(directory, uid), uid)):
                    yield self.grant_values(assignment_id, user_id)

    def row(self, model: type[models.Model], row_key) -> tuple | None:
        """The values of the model's row with this key (its first field, or its first two for grants); None when
        the read has no such row."""
        directory = self.directory
        if model is SnapshotUser:
            return self.user_values(row_key) if row_key in self.users else None
        if model is SnapshotAssignment:
            found = directory.rows.get(row_key)
            return self.assignment_values(found) if found is not None else None
        assignment_id, user_id = row_key
        found = directory.rows.get(assignment_id)
        if found is None:
            return None
        if found.principal_type == PrincipalType.USER:
            reached = found.principal_id == user_id and bool(user_id)
        else:
            members = self._members.get(assignment_id)
            if members is None:
                members = self._members[assignment_id] = set(_reached(directory, found))
            reached = user_id in members
        return self.grant_values(assignment_id, user_id) if reached else None


def _row_name_key(row: AssignmentRow) -> str:
    return key((row.principal_name or row.principal_id)[:NAME_LENGTH])


def _assignment_figures(
    directory: _Directory, row: AssignmentRow, users: Mapping[str, _Shape]
) -> tuple[int | None, int, int]:
    """(members of a group, of them with a warning, the assignment's warning bits)."""
    reached = _reached(directory, row)
    member_bits = 0
    warned = 0
    for user_id in reached:
        bits = users[user_id][3]
        member_bits |= bits
        warned += 1 if bits else 0
    is_group = row.principal_type == PrincipalType.GROUP
    members = len(reached) if is_group else None
    bits = warnings.assignment_warnings(
        principal_type=row.principal_type,
        default_access=row.default_access,
        role_defined=directory.book.defined(row.role_id),
        members=members,
        member_bits=member_bits,
    )
    return members, warned if is_group else 0, bits


def _compute(directory: _Directory) -> _Computed:
    # Each user's (role id, through a group) pairs: one shared pair for a user reached once (most are), else a list.
    pairs: dict[tuple[str, bool], tuple[str, bool]] = {}
    per_user: dict[str, Any] = {}
    for row in directory.rows.values():
        reached = _reached(directory, row)
        if not reached:
            continue
        pair = ("" if row.default_access else row.role_id, row.principal_type == PrincipalType.GROUP)
        pair = pairs.setdefault(pair, pair)
        for user_id in reached:
            have = per_user.get(user_id)
            if have is None:
                per_user[user_id] = pair
            elif type(have) is list:
                have.append(pair)
            else:
                per_user[user_id] = [have, pair]
    shapes: dict[Any, _Shape] = {}
    for user_id, grants in per_user.items():
        listed = [grants] if type(grants) is tuple else grants
        shape_key = grants if type(grants) is tuple else tuple(sorted(grants))
        shape = shapes.get(shape_key)
        if shape is None:
            role_ids, bits = warnings.user_warnings(listed)
            direct = any(not through for _, through in listed)
            groups = sum(1 for _, through in listed if through)
            shape = shapes[shape_key] = (role_ids, direct, groups, bits)
        per_user[user_id] = shape  # the same keys: the dict is not resized
    figures = {
        assignment_id: _assignment_figures(directory, row, per_user)
        for assignment_id, row in directory.rows.items()
        if row.principal_type != PrincipalType.USER
    }
    return _Computed(directory, per_user, figures)


def _assignment_values(row: AssignmentRow, person: Person | None, members: int | None, warned: int, bits: int):
    name = (row.principal_name or row.principal_id)[:NAME_LENGTH]
    upn, mail = (person.upn, person.mail) if person else ("", "")
    return (
        row.id, row.principal_id, row.principal_type[:40], name, upn, mail, key(name), key(upn), key(mail),
        row.role_id, row.role_name[:NAME_LENGTH], row.default_access, row.created[:40], members, warned, bits,
    )  # fmt: skip


def _grant_values(assignment_id: str, user_id: str, person: Person) -> tuple:
    return (assignment_id, user_id, person.name, person.upn, person.mail, key(person.name))


def _user_values(user_id: str, person: Person, role_ids: Sequence[str], direct: bool, groups: int, bits: int):
    return (
        user_id, person.name, person.upn, person.mail, key(person.name), key(person.upn), key(person.mail),
        " ".join(role_ids), direct, groups, bits,
    )  # fmt: skip


def _roles_by_user(
    book: AppRoles, roles: Mapping[str, Sequence[str]] | Iterable[tuple[str, Sequence[str]]]
) -> dict[str, tuple[str, ...]]:
    """What appRoleAssignments holds for each user, sorted as the live reader sorts it."""
    out: dict[str, tuple[str, ...]] = {}
    by_set: dict[tuple[str, ...], tuple[str, ...]] = {}  # most users share one of a few sets of roles
    for user_id, role_ids in roles.items() if isinstance(roles, Mapping) else roles:
        role_set = tuple(role_ids)
        found = by_set.get(role_set)
        if found is None:
            values: dict[str, AssignedRole] = {}
            for role_id in role_set:
                value = book.assigned(role_id)
                if value is not None:
                    values.setdefault(str(value), value)
            found = by_set[role_set] = tuple(sorted(values.values()))
        out[user_id] = found
    return out


# Writing ---------------------------------------------------------------------------------------------------------


def _sync(
    model: type[models.Model],
    application: Application,
    fields: Sequence[str],
    width: int,
    new: Callable[[Any], tuple | None],
    ordered: Callable[[], Iterable[tuple]],
):
    """Make the application's rows of `model` equal the read's (`new(key)`: a row's values in `fields` order, the key
    being the first `width` fields, None when the read has no such row; `ordered()`: every row of the read in the
    order they are written), deleting and inserting only the rows that differ. Returns how many rows were written."""
    stored: dict[Any, tuple[int, int]] = {}
    rows = model.objects.filter(application=application).values_list("pk", *fields)
    for pk, *values in rows.iterator(chunk_size=5000):
        row_key = values[0] if width == 1 else tuple(values[:width])
        stored[row_key] = (pk, hash(tuple(values)))
    doomed = []
    for row_key, (pk, digest) in stored.items():
        values = new(row_key)
        if values is None or hash(values) != digest:
            doomed.append(pk)
    fresh = [
        values
        for values in ordered()
        if stored.get(values[0] if width == 1 else values[:width], (0, None))[1] != hash(values)
    ]
    for start in range(0, len(doomed), WRITE_BATCH):
        model.objects.filter(pk__in=doomed[start : start + WRITE_BATCH]).delete()
    _insert(model, application, fields, fresh)
    return len(doomed) + len(fresh)


# The order rows are written in (_Computed.rows), that of the tables' main indexes: each index page is then filled
# once rather than visited again and again (a fifth less time writing 400,000 rows into PostgreSQL with its buffers
# shared by other work). It is also the order a table's digest reads them in: each key is a row's own (no two rows
# share one). Assignments by (name_key, assignment_id), grants by (assignment_id, name_key, user_id), users by
# (name_key, user_id).
DIGEST_CHUNK = 5000  # rows marshalled at once: one buffer of 100 MB cost more than the work


class _Digest:
    """The same for the same rows in the same order, in any process (unlike hash(), which varies per process for
    text). marshal's format 2 writes every value in full (no references that depend on which objects are shared); ""
    when a value is of a type it cannot write (the rows are then compared one by one)."""

    def __init__(self) -> None:
        self.hash: Any = hashlib.blake2b(digest_size=16)

    def update(self, rows: list[tuple]) -> None:
        if self.hash is not None:
            try:
                self.hash.update(marshal.dumps(rows, 2))
            except ValueError:
                self.hash = None

    def hexdigest(self) -> str:
        return self.hash.hexdigest() if self.hash is not None else ""


def _digested(rows: Iterable[tuple], digest: _Digest) -> Iterator[tuple]:
    """`rows`, adding them to `digest` a chunk at a time as they go (written through COPY, the digest is made while
    PostgreSQL takes the rows in)."""
    rows = iter(rows)
    while chunk := list(islice(rows, DIGEST_CHUNK)):
        digest.update(chunk)
        yield from chunk


def _digest(rows: Iterable[tuple]) -> str:
    digest = _Digest()
    for _ in _digested(rows, digest):
        pass
    return digest.hexdigest()


def _insert(model: type[models.Model], application: Application, fields: Sequence[str], rows: Iterable[tuple]) -> None:
    """Plain rows written at once (COPY on PostgreSQL, executemany on SQLite: console/bulk.py): a refresh of 100,000
    assignments writes some 300,000 rows, and a model instance per row cost more than the database did. The values
    are those _compute made (every column given, none left to a model default)."""
    columns = [model._meta.get_field(name).column for name in ("application", *fields)]
    insert_rows(model, columns, ((application.pk, *values) for values in rows), ready=True)


def _figures(application: Application) -> dict[str, Any]:
    """The snapshot's totals and warning counts, counted from the stored rows."""
    rows = SnapshotAssignment.objects.filter(application=application)
    users = SnapshotUser.objects.filter(application=application)
    counts = {}
    for kind in warnings.KINDS:
        query = rows if kind.counts == "assignment" else users
        counts[kind.key] = query.annotate(hit=F("warnings").bitand(kind.bit)).filter(hit__gt=0).count()
    by_type = dict(rows.values_list("principal_type").annotate(n=Count("id")).order_by())
    return {
        "assignments": sum(by_type.values()),
        "users": by_type.get(PrincipalType.USER, 0),
        "groups": by_type.get(PrincipalType.GROUP, 0),
        "reached": users.count(),
        "warning_counts": counts,
    }


def _locked(application: Application) -> AssignmentSnapshot:
    snapshot_of(application)
    return AssignmentSnapshot.objects.select_for_update().get(application=application)


def refresh(
    application: Application,
    reader: AssignmentReader,
    *,
    source: str = SnapshotSource.REFRESH,
    named_later: bool = False,
    roles_if_stored: bool = True,
) -> Refreshed:
    """Read the application's assignments in full and store them. Raises the read's RemoteError (the snapshot kept,
    the error noted on it). A cycle reads the UPN and mail only of users new to the snapshot, or (`named_later`, a
    full cycle that lists every user anyway) leaves them to PeopleNames; Refresh from Entra reads them all. Without
    `roles_if_stored`, `roles_by_user` is None once the read is stored (the caller reads the roles from the stored
    rows: StoredRoles), and the map only when it could not be."""
    started_at = timezone.now()
    started = time.monotonic()
    calls = reader.graph.calls
    known = _known_people(application) if source == SnapshotSource.CYCLE else None
    try:
        cycle = source == SnapshotSource.CYCLE
        directory = _read(reader, known, application if cycle else None, named_later=named_later and cycle)
    except RemoteError as exc:
        _note_error(application, f"Reading the assignments from Microsoft Graph failed: {exc}")
        raise
    read_at = time.monotonic()
    unread_groups = directory.unread.items()
    incomplete = [f"the members of group {group} could not be read ({exc.message})" for group, exc in unread_groups]
    computed = _compute(directory)
    computed_at = time.monotonic()
    seconds = computed_at - started
    known = None
    calls = reader.graph.calls - calls
    if incomplete:  # the stored snapshot stays as last read in full; the cycle goes on with what it knows
        reasons = "; ".join(incomplete)
        _note_error(application, f"Reading the assignments from Microsoft Graph was incomplete: {reasons}")
        stored = False
    else:
        stored = _store(application, directory, computed, started_at, source, calls, seconds)
    stored_at = time.monotonic()
    roles = None
    if roles_if_stored or not stored:
        roles = _roles_by_user(directory.book, ((uid, shape[0]) for uid, shape in computed.users.items()))
    return Refreshed(
        roles_by_user=roles,
        stored=stored,
        assignments=len(directory.rows),
        reached=len(computed.users),
        graph_calls=calls,
        seconds=time.monotonic() - started,
        incomplete=incomplete,
        unnamed=directory.unnamed if stored else 0,
        steps={
            "read": round(read_at - started, 2),
            "compute": round(computed_at - read_at, 2),
            "store": round(stored_at - computed_at, 2),
        },
    )


class PeopleNames:
    """The UPN and mail of users stored without them (refresh with `named_later`), gathered from the pages of a full
    cycle's read of every user and given to the snapshot's rows at once when that read is done.

    Used as a context manager around the read: each page is staged (`add`: COPY into a temporary table on PostgreSQL,
    one prepared INSERT elsewhere) and the rows are named with one UPDATE per table in one transaction when the read
    ends (`named` then says how many users were given). Naming each page's rows as it came cost a statement of
    10,000 parameters per table and page, each visiting rows spread over the tables' indexes: 54 s of a 100,000-user
    cycle. A read that fails names nobody (its users stay unnamed in every table and are read again next time), and
    rows that have a UPN are left alone."""

    STAGING = "snapshot_people_names"

    def __init__(self, application: Application) -> None:
        self.application = application
        self.staged = 0
        self.named = 0

    def __enter__(self) -> PeopleNames:
        staging = self.STAGING
        with connection.cursor() as cursor:
            # Made once per connection (no constraint, no WAL on PostgreSQL); emptied here, whatever an earlier read
            # that failed left in it.
            primary = "" if connection.vendor == "postgresql" else " PRIMARY KEY"
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} (uid varchar(64){primary}, upn varchar(512), "
                "mail varchar(512), upn_key varchar(256), mail_key varchar(256))"
            )
            cursor.execute(_emptied(staging))
        return self

    def add(self, users: Iterable[Mapping]) -> None:
        """Stage the UPN and mail of a page of Graph users (those without a UPN give nothing)."""
        values = [
            (user["id"][:64], upn[:NAME_LENGTH], mail[:NAME_LENGTH], key(upn), key(mail))
            for user in users
            if user.get("id")
            for upn, mail in [(user.get("userPrincipalName") or "", user.get("mail") or "")]
            if upn
        ]
        if not values:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {self.STAGING} (uid, upn, mail, upn_key, mail_key) FROM STDIN") as copy:
                    for row in values:
                        copy.write_row(row)
            else:
                cursor.executemany(
                    f"INSERT OR REPLACE INTO {self.STAGING} (uid, upn, mail, upn_key, mail_key) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s, %s)",
                    values,
                )
        self.staged += len(values)

    def __exit__(self, kind, error, trace) -> None:
        if kind is None and self.staged:
            self.named = self._apply()

    def _apply(self) -> int:
        """One UPDATE per table from the staged names, in one transaction. A user's object id names only that
        user's own assignments (directory object ids are unique across types)."""
        staging = self.STAGING
        tables = (
            (SnapshotUser, "user_id", True),
            (SnapshotAssignment, "principal_id", True),
            (SnapshotGrant, "user_id", False),
        )
        postgresql = connection.vendor == "postgresql"
        with transaction.atomic(), connection.cursor() as cursor:
            AssignmentSnapshot.objects.filter(application=self.application).update(row_digests={})  # rows change
            if postgresql:
                cursor.execute(f"ANALYZE {staging}")  # a temporary table has no statistics until asked
            for model, user_column, searchable in tables:
                table = connection.ops.quote_name(model._meta.db_table)
                columns = ("upn", "mail", "upn_key", "mail_key") if searchable else ("upn", "mail")
                # Table and column names are the models' own; the application is a parameter.
                if postgresql:
                    assigned = ", ".join(f"{column} = v.{column}" for column in columns)
                    cursor.execute(
                        f"UPDATE {table} SET {assigned} FROM {staging} AS v "  # noqa: S608
                        f"WHERE {table}.application_id = %s AND {table}.{user_column} = v.uid AND {table}.upn = ''",
                        [self.application.pk],
                    )
                else:
                    listed = ", ".join(columns)
                    cursor.execute(
                        f"UPDATE {table} SET ({listed}) = (SELECT {listed} FROM {staging} AS v "  # noqa: S608
                        f"WHERE v.uid = {table}.{user_column}) "
                        f"WHERE application_id = %s AND upn = '' AND {user_column} IN (SELECT uid FROM {staging})",
                        [self.application.pk],
                    )
            cursor.execute(_emptied(staging))
        return self.staged


def _emptied(table: str) -> str:
    return f"TRUNCATE {table}" if connection.vendor == "postgresql" else f"DELETE FROM {table}"  # noqa: S608


def _stored_roles(application_id: int, user_ids: list[str]) -> list[tuple[str, str]]:
    """(user id, stored role ids) of those of `user_ids` the snapshot holds, on PostgreSQL: one probe of the
    (application, user) unique index per id. Asked as `user_id IN (...)` (or `= ANY(array)`) of a page's ~2,000 ids,
    PostgreSQL scanned every row of the application instead (a bitmap of the application's rows, or a seq scan once
    the table is analyzed: 45-60 ms a page at 100,000 users, against a few ms for the probes), the largest part of
    what an unchanged full cycle waited on the database."""
    table = connection.ops.quote_name(SnapshotUser._meta.db_table)
    with connection.cursor() as cursor:
        # The table name is the model's own; the ids and the application are parameters.
        cursor.execute(
            f"SELECT wanted.id, (SELECT u.role_ids FROM {table} u "  # noqa: S608
            "WHERE u.application_id = %s AND u.user_id = wanted.id) FROM unnest(%s::text[]) AS wanted(id)",
            [application_id, user_ids],
        )
        return [(user_id, roles) for user_id, roles in cursor.fetchall() if roles is not None]


def _note_error(application: Application, text: str) -> None:
    AssignmentSnapshot.objects.filter(pk=snapshot_of(application).pk).update(error=text[:2000], error_at=timezone.now())


@transaction.atomic
def _store(
    application: Application,
    directory: _Directory,
    computed: _Computed,
    started_at: datetime,
    source: str,
    calls: int,
    seconds: float,
) -> bool:
    snapshot = _locked(application)
    if snapshot.as_of and snapshot.as_of > started_at:
        return False  # the stored rows carry a change made after this read began
    stored_digests = snapshot.row_digests or {}
    digests = {}
    for model, fields, width in (
        (SnapshotAssignment, ASSIGNMENT_FIELDS, 1),
        (SnapshotGrant, GRANT_FIELDS, 2),
        (SnapshotUser, USER_FIELDS, 1),
    ):
        name = model._meta.model_name
        if not model.objects.filter(application=application).exists():
            # Nothing stored (a first refresh): every row is written, digested on the way.
            digest = _Digest()
            _insert(model, application, fields, _digested(computed.rows(model), digest))
            digests[name] = digest.hexdigest()
            continue
        digests[name] = _digest(computed.rows(model))
        if not digests[name] or stored_digests.get(name) != digests[name]:
            _sync(model, application, fields, width, partial(computed.row, model), partial(computed.rows, model))
    rows = directory.rows.values()
    counts = warnings.count_warnings(
        (computed.assignment_figures(row)[2] for row in rows), (shape[3] for shape in computed.users.values())
    )
    snapshot.as_of = started_at
    snapshot.refreshed_at = timezone.now()
    snapshot.refreshed_by = source
    snapshot.changed_at = None
    snapshot.app_roles = directory.book.roles
    snapshot.assignments = len(directory.rows)
    snapshot.users = sum(1 for row in rows if row.principal_type[:40] == PrincipalType.USER)
    snapshot.groups = sum(1 for row in rows if row.principal_type[:40] == PrincipalType.GROUP)
    snapshot.reached = len(computed.users)
    snapshot.warning_counts = counts
    snapshot.row_digests = digests
    snapshot.graph_calls = calls
    snapshot.seconds = round(seconds, 3)
    snapshot.error = ""
    snapshot.error_at = None
    snapshot.save()
    return True


# Changes made from the console -------------------------------------------------------------------------------------


@transaction.atomic
def apply(
    application: Application,
    book: AppRoles,
    *,
    added: Iterable[tuple[AssignmentRow, Sequence[Mapping]]] = (),
    removed: Iterable[str] = (),
    joined: Mapping[str, Sequence[Mapping]] | None = None,
    left: Mapping[str, Sequence[str]] | None = None,
) -> bool:
    """Put changes into the snapshot and recompute only what they touch.

    `added`: assignments (rows) each with the users it reaches (the user themself, or the group's members with nested
    groups expanded, as Graph dicts); `removed`: assignment ids; `joined` / `left`: per assigned group's object id,
    users who now reach it (Graph dicts) or no longer do (ids). False when the snapshot was never read in full: a
    partial one would claim that nobody else is assigned, so it waits for its first refresh."""
    snapshot = _locked(application)
    if snapshot.refreshed_at is None:
        return False
    rows = SnapshotAssignment.objects.filter(application=application)
    grants = SnapshotGrant.objects.filter(application=application)
    affected: set[str] = set()
    touched: set[str] = set()
    removed = list(removed)
    if removed:
        affected.update(grants.filter(assignment_id__in=removed).values_list("user_id", flat=True))
        grants.filter(assignment_id__in=removed).delete()
        rows.filter(assignment_id__in=removed).delete()
    for row, reached in added:
        rows.filter(assignment_id=row.id).delete()
        grants.filter(assignment_id=row.id).delete()
        people = {user["id"]: Person.of(user) for user in reached if user.get("id")}
        person = people.get(row.principal_id) if row.principal_type == PrincipalType.USER else None
        values = _assignment_values(
            row, person, len(people) if row.principal_type == PrincipalType.GROUP else None, 0, 0
        )
        SnapshotAssignment.objects.create(application=application, **dict(zip(ASSIGNMENT_FIELDS, values, strict=True)))
        _add_grants(application, {row.id: people})
        affected.update(people)
        touched.add(row.id)
    for group_id, user_ids in (left or {}).items():
        of_group = list(rows.filter(principal_id=group_id).values_list("assignment_id", flat=True))
        grants.filter(assignment_id__in=of_group, user_id__in=list(user_ids)).delete()
        affected.update(user_ids)
        touched.update(of_group)
    for group_id, users in (joined or {}).items():
        of_group = list(rows.filter(principal_id=group_id).values_list("assignment_id", flat=True))
        people = {user["id"]: Person.of(user) for user in users if user.get("id")}
        grants.filter(assignment_id__in=of_group, user_id__in=list(people)).delete()
        _add_grants(application, {assignment_id: people for assignment_id in of_group})
        affected.update(people)
        touched.update(of_group)
    _recompute(application, book, affected, touched)
    figures = _figures(application)
    now = timezone.now()
    AssignmentSnapshot.objects.filter(pk=snapshot.pk).update(changed_at=now, as_of=now, row_digests={}, **figures)
    return True


def _add_grants(application: Application, reach: Mapping[str, Mapping[str, Person]]) -> None:
    SnapshotGrant.objects.bulk_create(
        (
            SnapshotGrant(application=application, **dict(zip(GRANT_FIELDS, _grant_values(aid, uid, p), strict=True)))
            for aid, people in reach.items()
            for uid, p in people.items()
        ),
        batch_size=WRITE_BATCH,
    )


def _recompute(application: Application, book: AppRoles, users: set[str], assignment_ids: set[str]) -> None:
    """The roles and warnings of `users` from their stored grants, then the figures of every assignment that
    reaches one of them (and of `assignment_ids`)."""
    rows = SnapshotAssignment.objects.filter(application=application)
    user_list = sorted(users)
    for start in range(0, len(user_list), WRITE_BATCH):
        chunk = user_list[start : start + WRITE_BATCH]
        grants = list(
            SnapshotGrant.objects.filter(application=application, user_id__in=chunk).values_list(
                "assignment_id", "user_id", "display_name", "upn", "mail"
            )
        )
        reaching = {g[0] for g in grants}
        assignment_ids.update(reaching)
        shape = {
            r[0]: r[1:]
            for r in rows.filter(assignment_id__in=reaching).values_list(
                "assignment_id", "role_id", "default_access", "principal_type"
            )
        }
        per_user: dict[str, list[tuple[str, bool]]] = defaultdict(list)
        people: dict[str, Person] = {}
        for assignment_id, user_id, name, upn, mail in grants:
            role_id, default, principal_type = shape[assignment_id]
            per_user[user_id].append(("" if default else role_id, principal_type == PrincipalType.GROUP))
            people.setdefault(user_id, Person(name, upn, mail))
        SnapshotUser.objects.filter(application=application, user_id__in=chunk).delete()
        fresh = []
        for user_id, grants_of in per_user.items():
            role_ids, bits = warnings.user_warnings(grants_of)
            direct = any(not through for _, through in grants_of)
            groups = sum(1 for _, through in grants_of if through)
            values = _user_values(user_id, people[user_id], role_ids, direct, groups, bits)
            fresh.append(SnapshotUser(application=application, **dict(zip(USER_FIELDS, values, strict=True))))
        SnapshotUser.objects.bulk_create(fresh, batch_size=WRITE_BATCH)
    warned_users = SnapshotUser.objects.filter(application=application, warnings__gt=0)
    for row in rows.filter(assignment_id__in=assignment_ids):
        grants = SnapshotGrant.objects.filter(application=application, assignment_id=row.assignment_id)
        is_group = row.principal_type == PrincipalType.GROUP
        members = grants.count() if is_group else None
        member_bits = 0
        for bits in warned_users.filter(user_id__in=grants.values("user_id")).values_list("warnings", flat=True):
            member_bits |= bits
        warned = warned_users.filter(user_id__in=grants.values("user_id")).count() if is_group else 0
        row.members, row.members_warned = members, warned
        row.warnings = warnings.assignment_warnings(
            principal_type=row.principal_type,
            default_access=row.default_access,
            role_defined=book.defined(row.role_id),
            members=members,
            member_bits=member_bits,
        )
        row.save(update_fields=["members", "members_warned", "warnings"])


# Refresh from Entra ------------------------------------------------------------------------------------------------

REFRESH_TASK = "mappings.directory.snapshot.run_requested_refresh"


def request_refresh(application: Application) -> None:
    """Refresh from Entra: a task reads the assignments in full (a large tenant takes seconds), after commit."""
    snapshot = snapshot_of(application)
    AssignmentSnapshot.objects.filter(pk=snapshot.pk).update(refresh_requested_at=timezone.now())
    pk = application.pk
    transaction.on_commit(lambda: async_task(REFRESH_TASK, pk, task_name=f"assignments-refresh-{pk}"))


def run_requested_refresh(application_pk: int) -> None:
    """The task behind Refresh from Entra. A failure is noted on the snapshot (shown on the page), the rows kept."""
    application = Application.objects.select_related("entra").filter(pk=application_pk).first()
    if application is None:
        return
    if not application.entra.service_principal_id:
        AssignmentSnapshot.objects.filter(application=application).update(
            error="Enter the Microsoft Entra credentials (with the enterprise application's object ID) first.",
            error_at=timezone.now(),
            refresh_requested_at=None,
        )
        return
    try:
        reader = AssignmentReader(GraphClient(application.entra))
        refresh(application, reader, source=SnapshotSource.REFRESH, roles_if_stored=False)
    except RemoteError:
        pass  # noted on the snapshot by refresh(), shown on the page
    finally:
        AssignmentSnapshot.objects.filter(application=application).update(refresh_requested_at=None)


# Reading the stored rows -------------------------------------------------------------------------------------------


class StoredAssignments:
    """The snapshot as an AssignmentSource: what the live reader would answer, from the stored rows."""

    def __init__(self, application: Application) -> None:
        self.application = application
        self.snapshot = snapshot_of(application)
        self.book = AppRoles(self.snapshot.app_roles or [])

    def app_roles(self) -> list[dict]:
        return self.book.roles

    def assignments(self) -> Iterator[AssignmentRow]:
        rows = SnapshotAssignment.objects.filter(application=self.application).order_by("name_key", "id")
        for row in rows.iterator(chunk_size=2000):
            yield self.row(row)

    def row(self, stored: SnapshotAssignment) -> AssignmentRow:
        return AssignmentRow(
            id=stored.assignment_id,
            principal_id=stored.principal_id,
            principal_type=stored.principal_type,
            principal_name=stored.display_name,
            role_id=stored.role_id,
            role_name=stored.role_label,
            default_access=stored.default_access,
            created=stored.created,
            role_value=self.book.assigned(stored.role_id) or "",
        )

    def grants(self, rows: Iterable[AssignmentRow], member_select: Sequence[str] = DETAILS_SELECT) -> Iterator[Grant]:
        for row in rows:
            reached = SnapshotGrant.objects.filter(application=self.application, assignment_id=row.id)
            for user_id, name, upn, mail in reached.values_list("user_id", "display_name", "upn", "mail"):
                yield Grant(row, {"id": user_id, "displayName": name, "userPrincipalName": upn, "mail": mail})

    def roles_by_user(self) -> dict[str, tuple[str, ...]]:
        users = SnapshotUser.objects.filter(application=self.application).values_list("user_id", "role_ids")
        return _roles_by_user(self.book, {user_id: roles.split() for user_id, roles in users.iterator(5000)})

    def roles_for(self, user_ids: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The role values of those of `user_ids` who are assigned (the others are left out)."""
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            return {}
        if connection.vendor == "postgresql":
            rows = _stored_roles(self.application.pk, wanted)
        else:
            users = SnapshotUser.objects.filter(application=self.application, user_id__in=wanted)
            rows = users.values_list("user_id", "role_ids")
        return _roles_by_user(self.book, {user_id: roles.split() for user_id, roles in rows})

    def roles_of(self, user_id: str) -> tuple[str, ...] | None:
        roles = (
            SnapshotUser.objects.filter(application=self.application, user_id=user_id)
            .values_list("role_ids", flat=True)
            .first()
        )
        return None if roles is None else _roles_by_user(self.book, {user_id: roles.split()})[user_id]
