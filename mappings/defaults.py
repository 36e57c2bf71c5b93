"""The default Salesforce user mapping (Entra's exported Salesforce template plus the sandbox suffix)."""

from __future__ import annotations

import re

from django.db import transaction

from console.concurrency import save_changes, snapshot
from mappings.changes import replace_attribute_rows, replace_scoping_filters
from mappings.models import AttributeMapping, FlowType, MappingType, ObjectMapping

# (target, type, source attribute or expression, default if null, matching precedence)
DEFAULT_ROWS: tuple[tuple[str, str, str, str, int | None], ...] = (
    ("IsActive", MappingType.EXPRESSION, "Not([IsSoftDeleted])", "True", None),
    ("Alias", MappingType.EXPRESSION, "Mid([userPrincipalName], 1, 8)", "", None),
    ("Email", MappingType.EXPRESSION, 'Append([mail], ".{suffix}")', "", None),
    ("EmailEncodingKey", MappingType.NONE, "", "ISO-8859-1", None),
    ("LanguageLocaleKey", MappingType.NONE, "", "en_US", None),
    ("FirstName", MappingType.DIRECT, "givenName", "", None),
    ("LastName", MappingType.DIRECT, "surname", ".", None),
    ("LocaleSidKey", MappingType.EXPRESSION, 'Replace([preferredLanguage], "-", , , "_", , )', "en_US", None),
    ("ProfileName", MappingType.EXPRESSION, "SingleAppRoleAssignment([appRoleAssignments])", "Chatter Free User", None),
    ("TimeZoneSidKey", MappingType.NONE, "", "America/Los_Angeles", None),
    ("Username", MappingType.EXPRESSION, 'Append([userPrincipalName], ".{suffix}")', "", 1),
    ("UserPermissionsCallCenterAutoLogin", MappingType.NONE, "", "False", None),
    ("UserPermissionsMarketingUser", MappingType.NONE, "", "False", None),
    ("UserPermissionsOfflineUser", MappingType.NONE, "", "False", None),
)


def suffix_from_name(name: str) -> str:
    """A sandbox suffix derived from the application name: "UAT sandbox" -> "uat"."""
    words = [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w and w not in {"sandbox", "salesforce", "sf"}]
    return (words[0] if words else "sandbox")[:40]


def default_attribute_mappings(object_mapping: ObjectMapping, suffix: str) -> list[AttributeMapping]:
    rows = []
    for target, mapping_type, source, default, precedence in DEFAULT_ROWS:
        rows.append(
            AttributeMapping(
                object_mapping=object_mapping,
                target_attribute=target,
                mapping_type=mapping_type,
                source_attribute=source if mapping_type == MappingType.DIRECT else "",
                expression=source.replace("{suffix}", suffix) if mapping_type == MappingType.EXPRESSION else "",
                default_value=default,
                match_objects=precedence is not None,
                matching_precedence=precedence,
                flow_type=FlowType.ALWAYS,
            )
        )
    return rows


RESTORED_FIELDS = ("sandbox_suffix", "action_create", "action_update", "action_delete", "enabled")


@transaction.atomic
def install_default_mapping(application, suffix: str, *, actor=None) -> ObjectMapping:
    """Create (or reset) the user mapping of `application` to the defaults with `suffix`. A reset keeps the rows of
    the targets the defaults also map (their versions bumped where they change), so forms open on them are told."""
    object_mapping, created = ObjectMapping.objects.get_or_create(
        application=application, defaults={"sandbox_suffix": suffix}
    )
    if created:
        AttributeMapping.objects.bulk_create(default_attribute_mappings(object_mapping, suffix))
        return object_mapping
    summary = "Restored the default mappings"
    replace_attribute_rows(
        object_mapping, default_attribute_mappings(object_mapping, suffix), actor=actor, summary=summary
    )
    replace_scoping_filters(object_mapping, [], actor=actor, summary=summary)
    current = ObjectMapping.objects.select_for_update().get(pk=object_mapping.pk)
    before = snapshot(current, RESTORED_FIELDS)
    current.sandbox_suffix = suffix
    current.action_create = current.action_update = current.action_delete = True
    current.enabled = True
    save_changes(current, RESTORED_FIELDS, before=before, actor=actor, summary=summary)
    return current
