"""What flows from Entra to Salesforce: the object mapping, its attribute mappings and scoping filters."""

from __future__ import annotations

from django.db import models

from connections.models import Application
from console.concurrency import Versioned


def default_object_mapping_metadata() -> list[dict[str, str]]:
    """The metadata of the user mapping in Entra's Salesforce template."""
    return [
        {"key": "IsCustomerDefined", "value": "false"},
        {"key": "DisableMonitoringForChanges", "value": "false"},
        {"key": "Disposition", "value": '"Normal"'},
        {"key": "ExcludeFromReporting", "value": "false"},
        {"key": "EscrowBehavior", "value": '"Default"'},
        {"key": "Unsynchronized", "value": "false"},
    ]


class ObjectMapping(Versioned, models.Model):
    """ "Synchronize Microsoft Entra users to Salesforce Sandbox": the one user mapping of an application."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="user_mapping")
    name = models.CharField(max_length=200, default="Synchronize Microsoft Entra users to Salesforce Sandbox")
    enabled = models.BooleanField(default=True)
    source_object = models.CharField(max_length=50, default="User")
    target_object = models.CharField(max_length=50, default="User")
    action_create = models.BooleanField("Create", default=True)
    action_update = models.BooleanField("Update", default=True)
    action_delete = models.BooleanField(
        "Delete", default=True, help_text="Salesforce users are never deleted: this deactivates them (IsActive=false)."
    )
    sandbox_suffix = models.CharField(
        max_length=40,
        blank=True,
        help_text="Appended to Username and Email so that sandbox users never collide with production ones.",
    )
    # Graph's objectMapping metadata ({key, value} pairs): kept as imported so an export gives them back.
    metadata = models.JSONField(default=default_object_mapping_metadata, null=True, blank=True)
    # Bumped on every change of mappings or scoping filters: the next cycle is then an initial one.
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.application})"


class MappingType(models.TextChoices):
    DIRECT = "Direct", "Direct"
    CONSTANT = "Constant", "Constant"
    EXPRESSION = "Expression", "Expression"
    NONE = "None", "None"


class FlowType(models.TextChoices):
    ALWAYS = "Always", "Always"
    OBJECT_ADD_ONLY = "ObjectAddOnly", "Only during object creation"


class FlowBehavior(models.TextChoices):
    """Graph's flowBehavior: kept for a faithful export; the engine compares values either way."""

    FLOW_WHEN_CHANGED = "FlowWhenChanged", "FlowWhenChanged"
    FLOW_ALWAYS = "FlowAlways", "FlowAlways"


class AttributeMapping(Versioned, models.Model):
    object_mapping = models.ForeignKey(ObjectMapping, on_delete=models.CASCADE, related_name="attributes")
    target_attribute = models.CharField(max_length=120)
    mapping_type = models.CharField(max_length=20, choices=MappingType.choices, default=MappingType.DIRECT)
    source_attribute = models.CharField(max_length=120, blank=True)
    constant_value = models.CharField(max_length=1000, blank=True)
    expression = models.TextField(blank=True)
    default_value = models.CharField("Default value if null", max_length=1000, blank=True)
    match_objects = models.BooleanField("Match objects using this attribute", default=False)
    matching_precedence = models.PositiveSmallIntegerField(null=True, blank=True)
    flow_type = models.CharField("Apply this mapping", max_length=20, choices=FlowType.choices, default=FlowType.ALWAYS)
    flow_behavior = models.CharField(
        max_length=20, choices=FlowBehavior.choices, default=FlowBehavior.FLOW_WHEN_CHANGED
    )
    export_missing_references = models.BooleanField(default=False)
    # The attributeMappingSource tree as imported from Graph, given back by the export while the row still says the
    # same (Entra's own parameter keys and shape survive a round trip); None for rows made in the console.
    graph_source = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["target_attribute"]
        constraints = [
            models.UniqueConstraint(fields=["object_mapping", "target_attribute"], name="one_mapping_per_target")
        ]

    def __str__(self) -> str:
        return f"{self.source_display} -> {self.target_attribute}"

    @property
    def source_display(self) -> str:
        if self.mapping_type == MappingType.DIRECT:
            return self.source_attribute
        if self.mapping_type == MappingType.CONSTANT:
            return f'"{self.constant_value}"'
        if self.mapping_type == MappingType.EXPRESSION:
            return self.expression
        return f"(default {self.default_value!r})" if self.default_value else "(none)"


class ScopingFilter(Versioned, models.Model):
    """One scoping filter: its clauses are ANDed; the filters of a mapping are ORed."""

    object_mapping = models.ForeignKey(ObjectMapping, on_delete=models.CASCADE, related_name="scoping_filters")
    title = models.CharField("Scoping filter title", max_length=200)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class ScopingOperator(models.TextChoices):
    AND = "&", "&"
    NOT_AND = "!&", "!&"
    ENDS_WITH = "ENDS_WITH", "ENDS_WITH"
    EQUALS = "EQUALS", "EQUALS"
    GREATER_THAN = "Greater_Than", "Greater_Than"
    GREATER_THAN_OR_EQUALS = "Greater_Than_OR_EQUALS", "Greater_Than_OR_EQUALS"
    INCLUDES = "Includes", "Includes"
    IS_FALSE = "IS FALSE", "IS FALSE"
    IS_NOT_NULL = "IS NOT NULL", "IS NOT NULL"
    IS_NULL = "IS NULL", "IS NULL"
    IS_TRUE = "IS TRUE", "IS TRUE"
    NOT_EQUALS = "NOT EQUALS", "NOT EQUALS"
    NOT_REGEX_MATCH = "NOT REGEX MATCH", "NOT REGEX MATCH"
    REGEX_MATCH = "REGEX MATCH", "REGEX MATCH"


class ScopingClause(models.Model):
    scoping_filter = models.ForeignKey(ScopingFilter, on_delete=models.CASCADE, related_name="clauses")
    attribute = models.CharField("Attribute name", max_length=120)
    operator = models.CharField(max_length=30, choices=ScopingOperator.choices)
    value = models.CharField("Attribute value", max_length=1000, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.attribute} {self.operator} {self.value}".strip()


class TargetAttribute(models.Model):
    """A Salesforce User field known to the mapping editor (standard fields, plus custom ones from describe)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="target_attributes")
    name = models.CharField(max_length=120)
    label = models.CharField(max_length=200, blank=True)
    type = models.CharField(max_length=40, default="string")
    required = models.BooleanField(default=False)
    length = models.PositiveIntegerField(null=True, blank=True)
    custom = models.BooleanField(default=False)
    picklist_values = models.JSONField(default=list, blank=True)
    multivalued = models.BooleanField("Multi-value", default=False)
    # For a reference: the object it points at (Profile, User, UserRole), as describe's referenceTo gives it.
    reference_to = models.CharField("Referenced object", max_length=120, blank=True)
    # Added by hand on the attribute list (kept by "Refresh target attributes", which replaces the described ones).
    manual = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["application", "name"], name="one_target_attribute_name")]

    def __str__(self) -> str:
        return self.name


class AttributeType(models.TextChoices):
    """Graph's synchronization attribute types (attributeDefinition.type)."""

    STRING = "String", "String"
    BOOLEAN = "Boolean", "Boolean"
    INTEGER = "Integer", "Integer"
    DATETIME = "DateTime", "DateTime"
    BINARY = "Binary", "Binary"
    REFERENCE = "Reference", "Reference"


class SourceAttributeOrigin(models.TextChoices):
    EXTENSION = "extension", "Directory extension"
    CUSTOM = "custom", "Custom"


class SourceAttribute(models.Model):
    """An attribute added to the application's list of Microsoft Entra ID attributes (Entra's "Edit attribute list
    for Microsoft Entra ID"): a directory extension found in the tenant, or a name typed with its type. Mappings,
    scoping filters and the expression tester accept only attributes of the list; the cycle reads them from Graph."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="source_attributes")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=20, choices=AttributeType.choices, default=AttributeType.STRING)
    multivalued = models.BooleanField("Multi-value", default=False)
    origin = models.CharField(
        max_length=20, choices=SourceAttributeOrigin.choices, default=SourceAttributeOrigin.CUSTOM
    )
    app_display_name = models.CharField("Registered by", max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["application", "name"], name="one_source_attribute_name")]

    def __str__(self) -> str:
        return self.name


# The access models live in mappings/access/, the assignment snapshot's in mappings/directory/; imported here so that
# Django registers them with this app.
from mappings.access.models import AccessSettings, AppRoleAccess, OrgAccessItem  # noqa: E402, F401
from mappings.directory.models import (  # noqa: E402, F401
    AssignmentSnapshot,
    SnapshotAssignment,
    SnapshotGrant,
    SnapshotUser,
)
