"""The forms of the Salesforce access page: one app role's access, and the application's leaver settings."""

from __future__ import annotations

from django import forms

from console.concurrency import VersionedFormMixin
from mappings.access.models import FEATURE_FLAGS, AccessKind, AccessSettings, AppRoleAccess, OrgAccessItem


class ItemChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: OrgAccessItem) -> str:
        text = f"{obj.get_kind_display()}: {obj.display_name}"
        if obj.licence_id:
            text += " (needs a permission set licence, assigned with it)"
        return text + (" — deleted in Salesforce" if obj.missing else "")


class RoleChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: OrgAccessItem) -> str:
        return obj.display_name + (" — deleted in Salesforce" if obj.missing else "")


class AppRoleAccessForm(VersionedFormMixin, forms.ModelForm):
    """One app role's access; a save over someone else's is refused with both shown (console/concurrency.py)."""

    user_role = RoleChoice(
        queryset=OrgAccessItem.objects.none(),
        required=False,
        label="Salesforce Role",
        help_text="UserRoleId. For users with several app roles, the role with the lowest precedence number that "
        "names a Salesforce Role gives it.",
    )
    items = ItemChoice(
        queryset=OrgAccessItem.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Permission sets, permission set groups, licences, public groups and queues",
        help_text="Granted to every user with this app role; users with several roles get all of their roles' items.",
    )
    feature_flags = forms.MultipleChoiceField(
        choices=FEATURE_FLAGS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Feature licences",
        help_text="User checkboxes switched on for users with this app role.",
    )

    class Meta:
        model = AppRoleAccess
        fields = ["precedence", "profile_name", "user_role", "items", "feature_flags"]

    def __init__(self, *args, application, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        catalogue = OrgAccessItem.objects.filter(application=application)
        self.fields["user_role"].queryset = catalogue.filter(kind=AccessKind.ROLE)
        self.fields["items"].queryset = catalogue.exclude(kind=AccessKind.ROLE)
        self.fields["precedence"].help_text = (
            "For users with several app roles, the profile and the Salesforce Role come from the role with the "
            "lowest number (1 first)."
        )
        self.fields["profile_name"].help_text = (
            "The Salesforce profile of users whose highest-precedence role is this one. Empty: the profile named by "
            "the app role's value (as Import roles created it)."
        )

    def clean(self):
        cleaned = super().clean()
        missing = [item.display_name for item in cleaned.get("items") or () if item.missing]
        role = cleaned.get("user_role")
        if role is not None and role.missing:
            missing.append(role.display_name)
        if missing and self.has_changed():
            newly = [
                name
                for name in missing
                if name not in {i.display_name for i in (self.instance.items.all() if self.instance.pk else ())}
            ]
            if newly:
                raise forms.ValidationError(
                    f"{', '.join(newly)} no longer exist in Salesforce (Refresh from Salesforce found them deleted): "
                    "choose another item."
                )
        return cleaned


class AccessSettingsForm(VersionedFormMixin, forms.ModelForm):
    class Meta:
        model = AccessSettings
        fields = ["profile_by_precedence", "revoke_on_deactivation", "freeze_leavers", "sync_manager"]
