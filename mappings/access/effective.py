"""A user's effective Salesforce access from their app roles, with the role that gave each piece.

Multi-valued access (permission sets and groups, licences, public groups and queues, feature licences) is the union
of the user's roles. Single-valued access (the profile, the Salesforce Role) comes from the role with the lowest
precedence number (ties by role value), the order the administrator sets on the Salesforce access page. A permission
set that needs a permission set licence brings the licence with it, so that the licence is granted first.

`AccessDefinition.for_application(app)` reads an application's access once (two queries); `effective(roles)` then
costs no query, so the engine calls it per user, and the Salesforce access and Users and groups pages call
`effective_access(app, roles)` for one user.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from connections.models import Application
from mappings.access.models import (
    FEATURE_FLAGS,
    GRANTED_KINDS,
    AccessKind,
    AccessSettings,
    AppRoleAccess,
    OrgAccessItem,
)

DEFAULT_PRECEDENCE = 100
FLAG_LABELS = dict(FEATURE_FLAGS)
FLAG = "flag"  # the kind of a feature-licence piece
PROFILE = "profile"


@dataclass(frozen=True)
class Item:
    """An org item as the engine needs it (no database row held)."""

    kind: str
    id: str
    name: str
    label: str = ""
    licence_id: str = ""
    missing: bool = False
    remove_unmanaged: bool = False

    @property
    def display_name(self) -> str:
        return self.label or self.name

    @classmethod
    def of(cls, row: OrgAccessItem) -> Item:
        return cls(row.kind, row.salesforce_id, row.name, row.label, row.licence_id, row.missing, row.remove_unmanaged)


@dataclass(frozen=True)
class Piece:
    """One piece of a user's effective access and the app roles that gave it."""

    kind: str  # AccessKind value, "flag" or "profile"
    id: str  # Salesforce id; the User field of a flag; the profile name
    name: str
    roles: tuple[str, ...]
    item: Item | None = None
    needed_by: str = ""  # a licence brought by a permission set that needs it

    @property
    def kind_label(self) -> str:
        if self.kind == FLAG:
            return "Feature licence"
        if self.kind == PROFILE:
            return "Profile"
        return AccessKind(self.kind).label


@dataclass(frozen=True)
class EffectiveAccess:
    profile: Piece | None
    user_role: Piece | None
    items: tuple[Piece, ...]  # granted by an assignment or membership, licences first
    flags: tuple[Piece, ...]

    @property
    def pieces(self) -> tuple[Piece, ...]:
        single = tuple(p for p in (self.profile, self.user_role) if p is not None)
        return single + self.items + self.flags

    def item_ids(self) -> set[str]:
        return {p.id for p in self.items}

    def flag_names(self) -> set[str]:
        return {p.id for p in self.flags}


NO_ACCESS = EffectiveAccess(None, None, (), ())


@dataclass
class RoleAccess:
    value: str
    label: str
    precedence: int
    profile: str
    user_role: Item | None
    items: tuple[Item, ...]
    flags: tuple[str, ...]


@dataclass
class AccessDefinition:
    """Every app role's access of one application, and the items the console manages."""

    roles: dict[str, RoleAccess] = field(default_factory=dict)  # casefolded role value -> access
    items: dict[str, Item] = field(default_factory=dict)  # Salesforce id -> item (every item of the catalogue)
    settings: AccessSettings | None = None
    # Users with the same roles have the same (immutable) access: computed once per set of roles.
    _known: dict[tuple[str, ...], EffectiveAccess] = field(default_factory=dict, repr=False)

    @classmethod
    def for_application(cls, application: Application) -> AccessDefinition:
        catalogue = {row.pk: Item.of(row) for row in OrgAccessItem.objects.filter(application=application)}
        definition = cls(items={item.id: item for item in catalogue.values()})
        rows = AppRoleAccess.objects.filter(application=application).prefetch_related("items")
        for row in rows:
            definition.roles[row.role_value.casefold()] = RoleAccess(
                value=row.role_value,
                label=row.role_label or row.role_value,
                precedence=row.precedence,
                profile=row.profile,
                user_role=catalogue.get(row.user_role_id) if row.user_role_id else None,
                items=tuple(catalogue[i.pk] for i in row.items.all()),
                flags=tuple(f for f in row.feature_flags or () if f in FLAG_LABELS),
            )
        definition.settings = AccessSettings.objects.filter(application=application).first()
        return definition

    @property
    def configured(self) -> bool:
        """Whether any role gives access beyond the profile (else the engine has nothing to reconcile)."""
        return any(r.user_role or r.items or r.flags for r in self.roles.values())

    def managed_items(self) -> list[Item]:
        """Items some role gives (with the licences they need), and items whose outside grants are removed too."""
        wanted: dict[str, Item] = {}
        for role in self.roles.values():
            for item in role.items:
                wanted[item.id] = item
                licence = self.items.get(item.licence_id) if item.licence_id else None
                if licence is not None:
                    wanted[licence.id] = licence
        for item in self.items.values():
            if item.remove_unmanaged and item.kind != AccessKind.ROLE:
                wanted[item.id] = item
        return list(wanted.values())

    def ordered(self, role_values: Iterable[str]) -> list[RoleAccess]:
        """The user's roles in precedence order; a role without access of its own gives its value as profile."""
        roles = []
        for value in dict.fromkeys(role_values):
            role = self.roles.get(str(value).casefold())
            roles.append(role or RoleAccess(str(value), str(value), DEFAULT_PRECEDENCE, str(value), None, (), ()))
        return sorted(roles, key=lambda r: (r.precedence, r.value.casefold()))

    def effective(self, role_values: Sequence[str]) -> EffectiveAccess:
        key = tuple(sorted({str(v) for v in role_values}))
        known = self._known.get(key)
        if known is None:
            known = self._known[key] = self._effective(key)
        return known

    def _effective(self, role_values: Sequence[str]) -> EffectiveAccess:
        roles = self.ordered(role_values)
        if not roles:
            return NO_ACCESS
        first = roles[0]
        profile = Piece(PROFILE, first.profile, first.profile, (first.label,))
        with_role = next((r for r in roles if r.user_role is not None), None)
        user_role = None
        if with_role is not None:
            item = with_role.user_role
            user_role = Piece(AccessKind.ROLE, item.id, item.display_name, (with_role.label,), item)
        given: dict[str, list[str]] = {}
        items: dict[str, Item] = {}
        needed_by: dict[str, str] = {}
        flags: dict[str, list[str]] = {}
        for role in roles:
            for item in role.items:
                items[item.id] = item
                given.setdefault(item.id, []).append(role.label)
                licence = self.items.get(item.licence_id) if item.licence_id else None
                if licence is not None:
                    items[licence.id] = licence
                    given.setdefault(licence.id, []).append(role.label)
                    needed_by.setdefault(licence.id, item.display_name)
            for flag in role.flags:
                flags.setdefault(flag, []).append(role.label)
        order = {kind: n for n, kind in enumerate(GRANTED_KINDS)}
        pieces = sorted(
            (
                Piece(
                    item.kind,
                    item.id,
                    item.display_name,
                    tuple(dict.fromkeys(given[item.id])),
                    item,
                    needed_by.get(item.id, ""),
                )
                for item in items.values()
            ),
            key=lambda p: (order.get(p.kind, 99), p.name.casefold()),
        )
        flag_pieces = tuple(
            Piece(FLAG, name, FLAG_LABELS[name], tuple(roles_)) for name, roles_ in sorted(flags.items())
        )
        return EffectiveAccess(profile, user_role, tuple(pieces), flag_pieces)


def effective_access(application: Application, role_values: Sequence[str]) -> EffectiveAccess:
    """One user's effective access, each piece with the app roles that gave it (for pages; reads the definition)."""
    return AccessDefinition.for_application(application).effective(role_values)
