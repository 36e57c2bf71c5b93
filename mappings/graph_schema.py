"""A whole Graph synchronizationSchema: besides the objectMapping (graph_json.py), its directory definitions name
the attributes of the source and target User objects. Those not yet in the application's lists are added with the
mapping, so a schema whose mappings read a directory extension, or write a custom Salesforce field, imports whole."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mappings.directory.attributes import DIRECTORY_EXTENSION, name_problem
from mappings.models import AttributeType, SourceAttribute, SourceAttributeOrigin, TargetAttribute
from mappings.targets import salesforce_type

SOURCE_DIRECTORY = "Azure Active Directory"


@dataclass
class SchemaAttributes:
    """The attributes a schema defines beyond the application's lists (unsaved rows)."""

    sources: list[SourceAttribute] = field(default_factory=list)
    targets: list[TargetAttribute] = field(default_factory=list)


def _user_attributes(document: dict[str, Any], directory_name: str) -> list[tuple[str, Any]]:
    """(place, attributeDefinition) of the User object of the named directory."""
    found = []
    for d, directory in enumerate(document.get("directories") or []):
        if not isinstance(directory, dict) or directory.get("name") != directory_name:
            continue
        for o, obj in enumerate(directory.get("objects") or []):
            if isinstance(obj, dict) and obj.get("name") == "User":
                found += [
                    (f"directories[{d}].objects[{o}].attributes[{i}]", a)
                    for i, a in enumerate(obj.get("attributes") or [])
                ]
    return found


def _definition(place: str, attribute: Any, errors: list[str]) -> tuple[str, str, bool] | None:
    """(name, type, multivalued) of an attributeDefinition, or None with the problem in `errors`."""
    if not isinstance(attribute, dict) or not isinstance(attribute.get("name"), str) or not attribute["name"]:
        errors.append(f"{place}: an attribute definition needs a name")
        return None
    kind = attribute.get("type") or AttributeType.STRING
    if kind not in AttributeType.values:
        errors.append(f"{place} ({attribute['name']}): type {kind!r} is not one of {', '.join(AttributeType.values)}")
        return None
    return attribute["name"], kind, attribute.get("multivalued") is True


def schema_attributes(
    document: Any, known_sources: set[str], known_targets: set[str], errors: list[str]
) -> SchemaAttributes:
    """The source and target attributes `document` (a synchronizationSchema) defines that the lists lack."""
    found = SchemaAttributes()
    if not isinstance(document, dict) or "directories" not in document:
        return found
    rules = [r for r in document.get("synchronizationRules") or [] if isinstance(r, dict)]
    source_name = next((r["sourceDirectoryName"] for r in rules if r.get("sourceDirectoryName")), SOURCE_DIRECTORY)
    target_names = {r["targetDirectoryName"] for r in rules if r.get("targetDirectoryName")}
    for place, attribute in _user_attributes(document, source_name):
        definition = _definition(place, attribute, errors)
        if definition is None or definition[0] in known_sources:
            continue
        name, kind, multivalued = definition
        problem = name_problem(name, known_sources)
        if problem:
            errors.append(f"{place}: {problem}")
            continue
        extension = DIRECTORY_EXTENSION.fullmatch(name) is not None
        origin = SourceAttributeOrigin.EXTENSION if extension else SourceAttributeOrigin.CUSTOM
        found.sources.append(SourceAttribute(name=name, type=kind, multivalued=multivalued, origin=origin))
        known_sources.add(name)
    for target_name in sorted(target_names) or [None]:
        attributes = _user_attributes(document, target_name) if target_name else []
        for place, attribute in attributes:
            definition = _definition(place, attribute, errors)
            if definition is None or definition[0] in known_targets:
                continue
            name, kind, multivalued = definition
            references = [r.get("referencedObjectName") for r in attribute.get("referencedObjects") or []]
            found.targets.append(
                TargetAttribute(
                    name=name[:120],
                    type=salesforce_type(kind, multivalued),
                    required=attribute.get("required") is True,
                    multivalued=multivalued,
                    reference_to=",".join(r for r in references if isinstance(r, str))[:120],
                    custom=name.endswith("__c"),
                    manual=True,
                )
            )
            known_targets.add(name)
    return found


def save_schema_attributes(application: Any, found: SchemaAttributes) -> None:
    for row in (*found.sources, *found.targets):
        row.application = application
    SourceAttribute.objects.bulk_create(found.sources)
    TargetAttribute.objects.bulk_create(found.targets)
