"""Forms of the Applications list and the Provisioning tab (mode, settings, status)."""

from __future__ import annotations

import re

from django import forms
from django.core.validators import validate_email
from django.utils.text import slugify

from connections.models import Application, ProvisioningMode
from console.concurrency import VersionedFormMixin
from mappings.defaults import suffix_from_name
from provisioning.models import ProvisioningJob

SUFFIX_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class ApplicationCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="A name administrators recognise, such as “UAT sandbox” or “Dev sandbox”.",
    )
    suffix = forms.CharField(
        label="Sandbox suffix",
        max_length=40,
        required=False,
        help_text="Appended to usernames and emails in this sandbox (admin@acme.com.uat). "
        "Leave blank to derive it from the name.",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if Application.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("An application with this name exists already.")
        slug = slugify(name)[:100]
        if not slug:
            raise forms.ValidationError("Use at least one letter or digit in the name.")
        if Application.objects.filter(slug=slug).exists():
            raise forms.ValidationError(f"The name gives the address “{slug}”, which another application uses.")
        return name

    def clean_suffix(self) -> str:
        suffix = self.cleaned_data["suffix"].strip().lower().lstrip(".")
        if suffix and not SUFFIX_RE.match(suffix):
            raise forms.ValidationError("Use lower-case letters, digits and hyphens, such as “uat” or “dev2”.")
        return suffix

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("name") and not cleaned.get("suffix"):
            cleaned["suffix"] = suffix_from_name(cleaned["name"])
        return cleaned


class ProvisioningModeForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = Application
        fields = ["provisioning_mode"]
        widgets = {"provisioning_mode": forms.Select}
        labels = {"provisioning_mode": "Provisioning Mode"}

    def clean_provisioning_mode(self) -> str:
        mode = self.cleaned_data["provisioning_mode"]
        job = getattr(self.instance, "job", None)
        if mode == ProvisioningMode.MANUAL and job is not None and job.enabled:
            raise forms.ValidationError("Turn Provisioning Status Off before switching to Manual.")
        return mode


def validate_recipients(value: str) -> list[str]:
    """Split "a@x.com, b@x.com; c@x.com" and validate each address; errors name the bad one."""
    addresses = [part.strip() for part in re.split(r"[,;\s]+", value) if part.strip()]
    bad = []
    for address in addresses:
        try:
            validate_email(address)
        except forms.ValidationError:
            bad.append(address)
    if bad:
        raise forms.ValidationError(
            "Not a valid email address: %(bad)s. Separate several addresses with commas.",
            params={"bad": ", ".join(bad)},
        )
    return addresses


class ProvisioningSettingsForm(VersionedFormMixin, forms.ModelForm):
    """The Settings section: notification email, accidental deletions, scope, cycle interval, retry time budget,
    quarantine sample."""

    class Meta:
        model = ProvisioningJob
        fields = [
            "notification_email",
            "notify_on_failure",
            "prevent_accidental_deletions",
            "deletion_threshold",
            "scope",
            "skip_out_of_scope_deletions",
            "interval_minutes",
            "retry_budget_minutes",
            "quarantine_min_operations",
        ]
        widgets = {"notification_email": forms.TextInput(attrs={"autocomplete": "email"})}
        help_texts = {
            "notify_on_failure": "Mails the Notification Email addresses when a cycle fails or the job is quarantined.",
            "prevent_accidental_deletions": "Holds a cycle's deactivations for review when they exceed the threshold.",
            "scope": "Sync only assigned users and groups is recommended: the Salesforce profile comes from the "
            "app role of the assignment, which “Sync all” users do not have.",
        }

    def clean_notification_email(self) -> str:
        addresses = validate_recipients(self.cleaned_data.get("notification_email", ""))
        return ", ".join(addresses)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("notify_on_failure") and not cleaned.get("notification_email"):
            self.add_error("notification_email", "Enter an address to send failure notifications to.")
        return cleaned


class ProvisioningStatusForm(VersionedFormMixin, forms.ModelForm):
    """The On/Off toggle. Turning it On needs Automatic mode and both connections configured."""

    enabled = forms.TypedChoiceField(
        label="Provisioning Status",
        choices=[("on", "On"), ("off", "Off")],
        coerce=lambda value: value == "on",
        widget=forms.RadioSelect,
        help_text="On: an initial cycle, then incremental cycles on schedule. Off pauses; On resumes.",
    )

    class Meta:
        model = ProvisioningJob
        fields = ["enabled"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial["enabled"] = "on" if self.instance.enabled else "off"

    def clean_enabled(self) -> bool:
        enabled = self.cleaned_data["enabled"]
        if enabled and not self.instance.enabled:
            application = self.instance.application
            problems = []
            if not application.is_automatic:
                problems.append("set Provisioning Mode to Automatic")
            if not application.salesforce.is_configured:
                problems.append("enter the Salesforce admin credentials")
            if not application.entra.is_configured:
                problems.append("enter the Entra connection")
            if problems:
                raise forms.ValidationError("Before turning provisioning On, " + " and ".join(problems) + ".")
        return enabled
