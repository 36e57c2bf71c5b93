"""Editing the two attribute lists of an application (Entra's "Show advanced options"): the Microsoft Entra ID
attributes the mappings may read, and the Salesforce attributes they may write.

Additions are checked (a directory extension's name, a Graph property Graph knows, a Salesforce field name) and
audited; an attribute a mapping or a scoping filter still uses cannot be removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction

from connections.clients.errors import BadRequest, RemoteError
from connections.clients.graph import GraphClient
from connections.models import Application
from console.models import AuditActivity, record_audit
from mappings.directory.attributes import DIRECTORY_EXTENSION, name_problem, source_attributes
from mappings.expressions import Attribute, ExpressionError, parse, walk
from mappings.models import (
    AttributeMapping,
    AttributeType,
    MappingType,
    ScopingClause,
    SourceAttribute,
    SourceAttributeOrigin,
    TargetAttribute,
)
from mappings.targets import STANDARD_TARGET_NAMES, salesforce_type, target_attribute_names

# Salesforce API names: a letter, then letters, digits and single underscores; custom fields end in __c.
SALESFORCE_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?:__c)?")
SOURCE_LIST = "the attribute list for Microsoft Entra ID"
TARGET_LIST = "the attribute list for Salesforce"


class AttributeListError(ValueError):
    """The change cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class Discovered:
    """A directory extension of users registered in the tenant, not yet in the list."""

    name: str
    type: str
    multivalued: bool
    app_display_name: str

    @property
    def refused(self) -> str:
        """Why it cannot be added ("" when it can)."""
        if self.multivalued:
            return "Entra does not provision multi-valued directory extensions"
        return ""


# Graph's extensionProperty dataType -> the attribute type of the list.
_EXTENSION_TYPES = {"LargeInteger": AttributeType.INTEGER}


def discover_directory_extensions(application: Application) -> list[Discovered]:
    """The tenant's directory extensions of users that the list lacks (Graph's getAvailableExtensionProperties).
    Raises RemoteError."""
    known = source_attributes(application)
    found = []
    for prop in GraphClient(application.entra).directory_extensions():
        name = prop.get("name") or ""
        if not name or name in known:
            continue
        kind = _EXTENSION_TYPES.get(prop.get("dataType"), prop.get("dataType"))
        found.append(
            Discovered(
                name=name,
                type=kind if kind in AttributeType.values else AttributeType.STRING,
                multivalued=prop.get("isMultiValued") is True,
                app_display_name=prop.get("appDisplayName") or "",
            )
        )
    return sorted(found, key=lambda d: d.name.lower())


def _check_with_graph(application: Application, name: str) -> str:
    """Ask Graph for the property on one user: refuses a name Graph does not know; a note when Graph could not be
    asked (the connection is not ready), so the administrator knows it was not checked."""
    try:
        GraphClient(application.entra).get("users", {"$select": f"id,{name}", "$top": 1})
    except BadRequest as exc:
        raise AttributeListError(f"Microsoft Graph does not know {name}: {exc.message}") from None
    except RemoteError as exc:
        return f" (not checked with Microsoft Graph, which could not be reached: {exc.message})"
    return ""


@transaction.atomic
def add_source_attribute(
    application: Application,
    name: str,
    type: str,  # noqa: A002 - the attribute list's own word
    multivalued: bool = False,
    *,
    app_display_name: str = "",
    check_with_graph: bool = True,
    actor=None,
) -> str:
    """Add `name` to the list of Microsoft Entra ID attributes; returns what was done, for the administrator."""
    name = name.strip()
    problem = name_problem(name, source_attributes(application))
    if problem:
        raise AttributeListError(problem)
    if type not in AttributeType.values:
        raise AttributeListError(f"type {type!r} is not one of {', '.join(AttributeType.values)}")
    extension = DIRECTORY_EXTENSION.fullmatch(name) is not None
    if extension and multivalued:
        raise AttributeListError(f"{name} is multi-valued: Entra does not provision multi-valued directory extensions")
    note = _check_with_graph(application, name) if check_with_graph else ""
    SourceAttribute.objects.create(
        application=application,
        name=name,
        type=type,
        multivalued=multivalued,
        origin=SourceAttributeOrigin.EXTENSION if extension else SourceAttributeOrigin.CUSTOM,
        app_display_name=app_display_name[:200],
    )
    done = f"Added {name} ({type}{', multi-value' if multivalued else ''}) to {SOURCE_LIST}{note}."
    record_audit(AuditActivity.UPDATE_MAPPINGS, actor=actor, application=application, detail=done)
    return done


def source_attribute_uses(application: Application, name: str) -> list[str]:
    """Where the mapping reads `name`: "mapping of Title", "scoping filter Sales"."""
    uses = []
    for row in AttributeMapping.objects.filter(object_mapping__application=application):
        if row.mapping_type == MappingType.DIRECT and row.source_attribute == name:
            uses.append(f"mapping of {row.target_attribute}")
        elif row.mapping_type == MappingType.EXPRESSION and f"[{name}]" in row.expression:
            try:
                read = {n.name for n in walk(parse(row.expression)) if isinstance(n, Attribute)}
            except ExpressionError:
                read = set()
            if name in read:
                uses.append(f"mapping of {row.target_attribute}")
    clauses = ScopingClause.objects.filter(scoping_filter__object_mapping__application=application, attribute=name)
    uses += sorted({f"scoping filter {c.scoping_filter.title}" for c in clauses.select_related("scoping_filter")})
    return uses


@transaction.atomic
def remove_source_attribute(application: Application, name: str, *, actor=None) -> str:
    row = SourceAttribute.objects.filter(application=application, name=name).first()
    if row is None:
        raise AttributeListError(f"{name} is not an attribute added to {SOURCE_LIST} (Entra's own cannot be removed)")
    uses = source_attribute_uses(application, name)
    if uses:
        raise AttributeListError(f"{name} is still used by the {', '.join(uses)}: change those first")
    row.delete()
    done = f"Removed {name} from {SOURCE_LIST}."
    record_audit(AuditActivity.UPDATE_MAPPINGS, actor=actor, application=application, detail=done)
    return done


@transaction.atomic
def add_target_attribute(
    application: Application,
    name: str,
    type: str,  # noqa: A002
    *,
    required: bool = False,
    multivalued: bool = False,
    reference_to: str = "",
    actor=None,
) -> str:
    """Add a Salesforce attribute by hand (one describe does not show, or before the field exists in the org)."""
    name = name.strip()
    if not SALESFORCE_NAME.fullmatch(name) or len(name) > 120:
        raise AttributeListError(
            f"{name!r} is not a Salesforce field name: letters, digits and single underscores, custom fields "
            "ending in __c (for example Region__c)"
        )
    known = {n.lower(): n for n in target_attribute_names(application)}
    if name.lower() in known:
        raise AttributeListError(f"{known[name.lower()]} is already in {TARGET_LIST}")
    if type not in AttributeType.values:
        raise AttributeListError(f"type {type!r} is not one of {', '.join(AttributeType.values)}")
    if type == AttributeType.REFERENCE and not reference_to.strip():
        raise AttributeListError("a Reference attribute needs the object it refers to (for example User)")
    if type != AttributeType.REFERENCE and reference_to.strip():
        raise AttributeListError("only a Reference attribute refers to an object: choose the type Reference")
    TargetAttribute.objects.create(
        application=application,
        name=name,
        label=name,
        type=salesforce_type(type, multivalued),
        required=required,
        multivalued=multivalued,
        reference_to=reference_to.strip()[:120],
        custom=name.endswith("__c"),
        manual=True,
    )
    done = f"Added {name} ({type}{', multi-value' if multivalued else ''}) to {TARGET_LIST}."
    record_audit(AuditActivity.UPDATE_MAPPINGS, actor=actor, application=application, detail=done)
    return done


@transaction.atomic
def remove_target_attribute(application: Application, name: str, *, actor=None) -> str:
    row = TargetAttribute.objects.filter(application=application, name=name, manual=True).first()
    if row is None or name in STANDARD_TARGET_NAMES:
        raise AttributeListError(
            f"{name} was not added by hand: the standard attributes and those read from Salesforce stay "
            "(Refresh target attributes replaces the latter)"
        )
    if AttributeMapping.objects.filter(object_mapping__application=application, target_attribute=name).exists():
        raise AttributeListError(f"{name} is still mapped: delete its attribute mapping first")
    row.delete()
    done = f"Removed {name} from {TARGET_LIST}."
    record_audit(AuditActivity.UPDATE_MAPPINGS, actor=actor, application=application, detail=done)
    return done
