"""Forms of the Mappings pages. Every rule an administrator can break is checked here, on save: an expression
that does not parse or check, an unknown source attribute, an invalid scoping regex, a duplicate target."""

from __future__ import annotations

import re

from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory

from console.concurrency import VersionedFormMixin
from console.formsets import BoundedFormSetMixin
from console.json_input import MAX_JSON_BYTES, JsonInputError, load_json
from mappings.directory.attributes import source_attributes
from mappings.expressions import ExpressionError, validate
from mappings.expressions.attributes import ADD_TO_LIST, suggest
from mappings.models import (
    AttributeMapping,
    AttributeType,
    FlowType,
    MappingType,
    ObjectMapping,
    ScopingClause,
    ScopingFilter,
)
from mappings.rules import row_errors
from mappings.scoping import MAX_CLAUSES_PER_FILTER, OPERATORS, UNARY_OPERATORS, validate_clause
from mappings.targets import REQUIRED_TARGET_ATTRIBUTES

SUFFIX_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class ObjectMappingForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = ObjectMapping
        fields = ["enabled", "action_create", "action_update", "action_delete", "sandbox_suffix"]
        labels = {"enabled": "Enabled", "sandbox_suffix": "Sandbox suffix"}
        help_texts = {
            "enabled": "When off, cycles skip this mapping and no user is provisioned.",
            "action_create": "Create Salesforce users for assigned, in-scope Entra users. Unticking it leaves "
            "existing users alone.",
            "action_update": "Update the mapped attributes of users already in Salesforce.",
            "sandbox_suffix": 'Appended to Username and Email (Append([userPrincipalName], ".suffix")) so sandbox '
            "users never collide with production ones. Changing it rewrites both expressions.",
        }

    def clean_sandbox_suffix(self) -> str:
        suffix = self.cleaned_data["sandbox_suffix"].strip().lstrip(".")
        if not suffix:
            # Usernames are unique across every Salesforce org: without a suffix, sandbox users collide with
            # their production accounts (DUPLICATE_USERNAME), and the Append expressions could not be rewritten.
            raise forms.ValidationError(
                "Enter the sandbox suffix (for example uat): Salesforce usernames are unique across all orgs, "
                "so sandbox users need one to differ from their production accounts."
            )
        if not SUFFIX_PATTERN.fullmatch(suffix):
            raise forms.ValidationError("Use letters, digits, '-' and '_' only (for example uat or qa2).")
        return suffix


class AttributeMappingForm(VersionedFormMixin, forms.ModelForm):
    """The mapping editor: one target attribute and where its value comes from."""

    target_attribute = forms.ChoiceField(
        label="Target attribute",
        help_text="The Salesforce User field written. Custom fields appear after Refresh target attributes.",
    )

    class Meta:
        model = AttributeMapping
        fields = [
            "mapping_type",
            "source_attribute",
            "constant_value",
            "expression",
            "target_attribute",
            "default_value",
            "match_objects",
            "matching_precedence",
            "flow_type",
        ]
        labels = {
            "mapping_type": "Mapping type",
            "source_attribute": "Source attribute",
            "constant_value": "Constant value",
            "expression": "Expression",
            "default_value": "Default value if null (optional)",
            "matching_precedence": "Matching precedence",
        }
        help_texts = {
            "mapping_type": "Direct copies an Entra attribute; Constant writes a fixed string; Expression computes the "
            "value; None writes only the default value, when the user is created.",
            "source_attribute": "An Entra user attribute such as userPrincipalName; extension attributes "
            "(extension_<appId>_name, extensionAttribute1-15) may be typed.",
            "constant_value": "Written as is when the mapping type is Constant.",
            "expression": 'For example Append([userPrincipalName], ".uat"). Checked when you save.',
            "default_value": "Written only when the user is created and the source gives no value.",
            "match_objects": "Find the existing Salesforce user by this attribute.",
            "matching_precedence": "Matching attributes are tried in this order (1 first); the first hit wins.",
            "flow_type": "Only during object creation: the value is written when the user is created, never updated.",
        }
        widgets = {
            "expression": forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "code"}),
            "source_attribute": forms.TextInput(attrs={"list": "entra-attributes", "spellcheck": "false"}),
        }

    def __init__(self, *args, object_mapping: ObjectMapping, target_names: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.object_mapping = object_mapping
        self.known = frozenset(source_attributes(object_mapping.application if object_mapping else None))
        self.original_target = self.instance.target_attribute if self.instance.pk else None
        names = list(target_names)
        if self.original_target and self.original_target not in names:
            names.append(self.original_target)
        self.fields["target_attribute"].choices = [("", "Select a Salesforce attribute")] + [(n, n) for n in names]

    def clean_source_attribute(self) -> str:
        name = self.cleaned_data["source_attribute"].strip()
        if self.cleaned_data.get("mapping_type") == MappingType.DIRECT and name and name not in self.known:
            guess = suggest(name, self.known)
            hint = f" Did you mean {guess}?" if guess else f" To map it, {ADD_TO_LIST}."
            raise forms.ValidationError(f"{name} is not in the list of Microsoft Entra ID attributes.{hint}")
        return name

    def clean(self) -> dict:
        data = super().clean()
        kind = data.get("mapping_type")
        target = data.get("target_attribute")
        if kind == MappingType.DIRECT and not data.get("source_attribute") and "source_attribute" not in self.errors:
            self.add_error("source_attribute", "A Direct mapping needs a source attribute.")
        if kind == MappingType.EXPRESSION:
            text = data.get("expression") or ""
            if not text.strip():
                self.add_error("expression", "An Expression mapping needs an expression.")
            else:
                try:
                    validate(text, self.known)
                except ExpressionError as exc:
                    self.add_error("expression", str(exc))
                add_only = data.get("flow_type") == FlowType.OBJECT_ADD_ONLY
                for error in row_errors(text, match_objects=bool(data.get("match_objects")), add_only=add_only):
                    self.add_error("expression", error)
        if kind == MappingType.NONE and not data.get("default_value"):
            self.add_error("default_value", "A None mapping writes only its default value: give one.")
        if self.original_target in REQUIRED_TARGET_ATTRIBUTES and target and target != self.original_target:
            self.add_error(
                "target_attribute",
                f"{self.original_target} is required by Salesforce; its mapping cannot be moved to another attribute.",
            )
        if target:
            clash = AttributeMapping.objects.filter(object_mapping=self.object_mapping, target_attribute=target)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("target_attribute", f"{target} already has a mapping: edit that one instead.")
        if data.get("match_objects"):
            if kind in (MappingType.CONSTANT, MappingType.NONE):
                self.add_error("match_objects", "Matching needs a value from the source user (Direct or Expression).")
            if not data.get("matching_precedence"):
                others = AttributeMapping.objects.filter(object_mapping=self.object_mapping, match_objects=True)
                used = others.exclude(pk=self.instance.pk).values_list("matching_precedence", flat=True)
                data["matching_precedence"] = 1 + max((p or 0 for p in used), default=0)
        else:
            data["matching_precedence"] = None
            others = AttributeMapping.objects.filter(object_mapping=self.object_mapping, match_objects=True)
            if self.instance.pk and self.instance.match_objects and not others.exclude(pk=self.instance.pk).exists():
                self.add_error("match_objects", "At least one attribute must be used to match objects.")
        # Keep only what the chosen type uses, so the list shows what really flows.
        if kind != MappingType.DIRECT:
            data["source_attribute"] = ""
        if kind != MappingType.CONSTANT:
            data["constant_value"] = ""
        if kind != MappingType.EXPRESSION:
            data["expression"] = ""
        return data


class ScopingFilterForm(VersionedFormMixin, forms.ModelForm):
    also_shown = ("clauses",)  # the clause rows below it are saved with the filter's version

    class Meta:
        model = ScopingFilter
        fields = ["title"]
        help_texts = {"title": "A name shown in provision on demand and the logs, e.g. Sales department."}


class ScopingClauseForm(forms.ModelForm):
    operator = forms.ChoiceField(
        choices=[("", "Operator")] + [(o, o) for o in OPERATORS],
        required=False,
        help_text="IS NULL, IS NOT NULL, IS TRUE and IS FALSE take no value; Greater_Than compares whole numbers; "
        "& passes when the user's value occurs in the clause's value.",
    )

    class Meta:
        model = ScopingClause
        fields = ["attribute", "operator", "value"]
        widgets = {"attribute": forms.TextInput(attrs={"list": "entra-attributes", "spellcheck": "false"})}
        help_texts = {
            "attribute": "An Entra user attribute such as department; extension attributes may be typed.",
            "value": "Compared exactly and case-sensitively (EQUALS, Includes, ENDS_WITH); a .NET regular "
            "expression for REGEX MATCH.",
        }

    def __init__(self, *args, attributes: dict | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.attributes = attributes  # the application's attribute list (name -> AttributeSpec); None: Entra's own

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("attribute") and not data.get("operator") and not data.get("value"):
            return data  # an empty extra row
        operator = data.get("operator") or ""
        value = "" if operator in UNARY_OPERATORS else (data.get("value") or "")
        try:
            known = None if self.attributes is None else frozenset(self.attributes)
            multivalued = {n for n, spec in (self.attributes or {}).items() if spec.multivalued}
            validate_clause((data.get("attribute") or "").strip(), operator, value, known, multivalued)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        data["attribute"], data["value"] = data["attribute"].strip(), value
        return data

    def has_content(self) -> bool:
        return bool(self.cleaned_data.get("attribute"))


class BoundedClauseFormSet(BoundedFormSetMixin, BaseInlineFormSet):
    default_error_messages = {
        "too_many_forms": f"A scoping filter holds at most {MAX_CLAUSES_PER_FILTER} clauses: nothing was saved. "
        "Split a longer condition into several scoping filters (a user is in scope when any filter passes).",
    }


ScopingClauseFormSet = inlineformset_factory(
    ScopingFilter,
    ScopingClause,
    form=ScopingClauseForm,
    formset=BoundedClauseFormSet,
    extra=2,
    can_delete=True,
    max_num=MAX_CLAUSES_PER_FILTER,
    absolute_max=MAX_CLAUSES_PER_FILTER,
    validate_max=True,
)


class ExpressionTestForm(forms.Form):
    expression = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "code"}),
        max_length=10_000,
        help_text='For example Append([userPrincipalName], ".uat").',
    )
    user = forms.CharField(
        label="Entra user",
        required=False,
        help_text="User principal name or object ID; the user is read live from Microsoft Graph.",
    )
    sample = forms.CharField(
        label="Or a sample user (JSON)",
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "code"}),
        help_text='Attributes by their Graph names, e.g. {"userPrincipalName": "john@contoso.com", '
        '"appRoleAssignments": ["Standard User"]}.',
    )
    target_attribute = forms.CharField(
        label="Salesforce attribute",
        required=False,
        max_length=120,
        help_text="The attribute the expression is mapped to: SelectUniqueValue checks its candidates there (read "
        "only, nothing is written).",
    )

    def clean(self) -> dict:
        data = super().clean()
        has_user, has_sample = bool(data.get("user", "").strip()), bool(data.get("sample", "").strip())
        if has_user and has_sample:
            raise forms.ValidationError("Give either an Entra user or a sample user, not both.")
        if not has_user and not has_sample:
            raise forms.ValidationError(
                "Enter an Entra user (user principal name or object ID) or type a sample user as JSON."
            )
        return data


class MappingImportForm(forms.Form):
    file = forms.FileField(
        label="Mapping JSON file",
        required=False,
        help_text="An objectMapping exported from this console or from Entra (Graph synchronization schema).",
    )
    document = forms.CharField(
        label="Or paste the JSON",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="The same document as the file: an objectMapping with attributeMappings (and scope). "
        f"Nothing is imported unless every mapping is valid. At most {MAX_JSON_BYTES:,} bytes.",
    )

    def clean(self) -> dict:
        data = super().clean()
        upload = data.get("file")
        if upload and upload.size > MAX_JSON_BYTES:
            raise forms.ValidationError(
                f"The file has {upload.size:,} bytes; a mapping export is a few kilobytes (at most "
                f"{MAX_JSON_BYTES:,} bytes are read). Choose the objectMapping JSON file."
            )
        text = upload.read().decode("utf-8", errors="replace") if upload else (data.get("document") or "")
        if not text.strip():
            raise forms.ValidationError("Choose a file or paste the JSON.")
        data["text"] = text
        try:
            data["parsed"] = load_json(text, what="The file" if upload else "The pasted text")
        except JsonInputError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


class AssignmentForm(forms.Form):
    principal = forms.CharField(
        label="User or group",
        help_text="A user's principal name or object ID, or a group's object ID.",
        max_length=300,
    )
    role = forms.ChoiceField(label="Role", help_text="The Salesforce profile the user gets (ProfileName).")

    def __init__(self, *args, roles: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles


class _AttributeForm(forms.Form):
    """An attribute added to one of the attribute lists: its name and type."""

    name_help = "The attribute's name."
    type_help = "The kind of value the attribute holds."
    multivalued_help = "Several values per user."
    name = forms.CharField(label="Name", max_length=200, widget=forms.TextInput(attrs={"spellcheck": "false"}))
    type = forms.ChoiceField(label="Type", choices=AttributeType.choices, initial=AttributeType.STRING)
    multivalued = forms.BooleanField(label="Multi-value?", required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = self.name_help
        self.fields["type"].help_text = self.type_help
        self.fields["multivalued"].help_text = self.multivalued_help


class SourceAttributeForm(_AttributeForm):
    """A name added to the list of Microsoft Entra ID attributes."""

    name_help = (
        "A directory extension's full name, extension_<appId without dashes>_<name> (names are case-sensitive), or "
        "the name of another Graph user property."
    )
    type_help = "The kind of value the attribute holds in Microsoft Entra ID."
    multivalued_help = (
        "Several values per user (scoping filters cannot use it; Entra does not provision multi-valued directory "
        "extensions)."
    )
    app_display_name = forms.CharField(required=False, widget=forms.HiddenInput)


class TargetAttributeForm(_AttributeForm):
    """A Salesforce attribute added by hand to the list for Salesforce."""

    name_help = (
        "The field's API name in Salesforce, for example Region__c (Refresh target attributes reads the org's own "
        "fields, custom ones included)."
    )
    type_help = (
        "How values are written: Boolean as true/false, Integer as a whole number, DateTime as a date and time, "
        "Reference as the Id of another record."
    )
    multivalued_help = "Several values, written separated by semicolons (a multi-select picklist)."
    required = forms.BooleanField(
        label="Required?",
        required=False,
        help_text="Salesforce refuses to create a user without it: give its mapping a default value.",
    )
    reference_to = forms.CharField(
        label="Referenced object",
        required=False,
        max_length=120,
        help_text="For a Reference: the object whose Id the field holds, for example User or Profile.",
    )
