"""The list of Microsoft Entra ID attributes an application's mappings may read (Entra's "Show advanced options >
Edit attribute list for Microsoft Entra ID"): Entra's own user attributes, plus the ones an administrator adds,
directory extensions found in the tenant and names typed with a type (SourceAttribute rows).

Each attribute also says where the console finds it in Graph's user: the property `$select` asks for, and the value
inside it when Entra's name is not Graph's (extensionAttribute3 is onPremisesExtensionAttributes.extensionAttribute3,
telephoneNumber the first of businessPhones). Mappings, scoping filters, the expression tester, the importer's
`$select` and the source user built from Graph's answer all use this one list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mappings.expressions import ENTRA_USER_ATTRIBUTES
from mappings.models import AttributeType, SourceAttribute, SourceAttributeOrigin

BUILT_IN = "Microsoft Entra ID"
# A directory extension's full name: extension_<the registering app's appId without dashes>_<name>. Not held to
# 32 hexadecimal digits: Microsoft's own examples abbreviate the appId (extension_9d98asdfl15980a_Nickname).
DIRECTORY_EXTENSION = re.compile(r"extension_[0-9A-Za-z]+_[A-Za-z0-9_]+")
# A name typed by an administrator: a Graph user property (letters, digits, "_"), or a directory extension.
CUSTOM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,199}")


@dataclass(frozen=True)
class AttributeSpec:
    name: str  # as mappings write it: [extensionAttribute3]
    type: str = AttributeType.STRING
    multivalued: bool = False
    origin: str = BUILT_IN
    graph: str = ""  # the Graph user property holding it; "" when the console computes it (appRoleAssignments)
    part: str | int | None = None  # the value inside that property: a key of an object, an index of a list

    @property
    def built_in(self) -> bool:
        return self.origin == BUILT_IN


def _built_in() -> dict[str, AttributeSpec]:
    specs = {name: AttributeSpec(name, graph=name) for name in ENTRA_USER_ATTRIBUTES}
    typed = {
        AttributeType.BOOLEAN: ("accountEnabled", "onPremisesSyncEnabled", "showInAddressList"),
        AttributeType.DATETIME: (
            "createdDateTime",
            "employeeHireDate",
            "employeeLeaveDateTime",
            "lastPasswordChangeDateTime",
            "signInSessionsValidFromDateTime",
        ),
        AttributeType.REFERENCE: ("manager",),
    }
    for kind, names in typed.items():
        specs.update({n: AttributeSpec(n, kind, graph=n) for n in names})
    specs.update(
        {n: AttributeSpec(n, multivalued=True, graph=n) for n in ("businessPhones", "otherMails", "proxyAddresses")}
    )
    # Entra's directory-schema names that Graph calls otherwise.
    renamed = {
        "facsimileTelephoneNumber": ("faxNumber", None),
        "immutableId": ("onPremisesImmutableId", None),
        "mobile": ("mobilePhone", None),
        "physicalDeliveryOfficeName": ("officeLocation", None),
        "telephoneNumber": ("businessPhones", 0),
        "employeeOrgData.costCenter": ("employeeOrgData", "costCenter"),
        "employeeOrgData.division": ("employeeOrgData", "division"),
        **{f"extensionAttribute{n}": ("onPremisesExtensionAttributes", f"extensionAttribute{n}") for n in range(1, 16)},
    }
    specs.update({name: AttributeSpec(name, graph=graph, part=part) for name, (graph, part) in renamed.items()})
    # Entra's pseudo-attributes, computed by the console (mappings.directory.users.source_user).
    specs["appRoleAssignments"] = AttributeSpec("appRoleAssignments", multivalued=True)
    specs["IsSoftDeleted"] = AttributeSpec("IsSoftDeleted", AttributeType.BOOLEAN)
    specs["objectId"] = AttributeSpec("objectId")
    return specs


BUILT_IN_ATTRIBUTES: dict[str, AttributeSpec] = _built_in()
# Graph property -> the Entra names read from inside it or under another name (for building the source user).
DERIVED: dict[str, tuple[AttributeSpec, ...]] = {}
for _spec in BUILT_IN_ATTRIBUTES.values():
    if _spec.graph and (_spec.part is not None or _spec.graph != _spec.name):
        DERIVED[_spec.graph] = (*DERIVED.get(_spec.graph, ()), _spec)


def graph_property(name: str) -> str:
    """The Graph user property holding the attribute `name` ("" for the console's pseudo-attributes); an added
    attribute (a directory extension or a typed name) is a Graph property of that very name."""
    spec = BUILT_IN_ATTRIBUTES.get(name)
    return spec.graph if spec is not None else name


def read_derived(raw: Mapping[str, Any], user: dict[str, Any]) -> None:
    """Add to `user` the attributes Entra names differently from Graph's `raw` user (in place)."""
    for graph, specs in DERIVED.items():
        if graph not in raw:
            continue
        holder = raw[graph]
        for spec in specs:
            if spec.part is None:
                user[spec.name] = holder
            elif isinstance(spec.part, int):
                user[spec.name] = holder[spec.part] if isinstance(holder, list) and len(holder) > spec.part else None
            else:
                user[spec.name] = holder.get(spec.part) if isinstance(holder, dict) else None


def _spec(row: SourceAttribute) -> AttributeSpec:
    return AttributeSpec(row.name, row.type, row.multivalued, row.get_origin_display(), graph=row.name)


def source_attributes(application: Any) -> dict[str, AttributeSpec]:
    """The application's list: Entra's attributes and the added ones, by name."""
    specs = dict(BUILT_IN_ATTRIBUTES)
    if application is not None and application.pk:
        specs.update({row.name: _spec(row) for row in SourceAttribute.objects.filter(application=application)})
    return specs


def source_attribute_names(application: Any) -> frozenset[str]:
    return frozenset(source_attributes(application))


def sorted_names(names: Iterable[str]) -> list[str]:
    return sorted(names, key=str.lower)


def name_problem(name: str, existing: Iterable[str]) -> str | None:
    """Why `name` cannot be added to the list, or None."""
    if not CUSTOM_NAME.fullmatch(name):
        return (
            f"{name!r} is not an attribute name: use the Graph property's name (letters, digits and _), for a "
            "directory extension its full name extension_<appId without dashes>_<name>"
        )
    if name.startswith("extension_") and not DIRECTORY_EXTENSION.fullmatch(name):
        return f"{name} is not a directory extension's name: it is extension_<the app's appId without dashes>_<name>"
    if name in BUILT_IN_ATTRIBUTES:
        return f"{name} is already one of Entra's attributes"
    folded = {n.lower(): n for n in existing}
    if name.lower() in folded:
        return f"{folded[name.lower()]} is already in the list (attribute names are case-insensitive in Graph)"
    return None


__all__ = [
    "BUILT_IN",
    "BUILT_IN_ATTRIBUTES",
    "AttributeSpec",
    "SourceAttributeOrigin",
    "graph_property",
    "name_problem",
    "read_derived",
    "source_attribute_names",
    "source_attributes",
]
