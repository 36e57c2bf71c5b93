"""What each app role gives in Salesforce beyond the profile, and the org's catalogue the pickers offer."""

from __future__ import annotations

from django.db import models

from connections.models import Application
from console.concurrency import Versioned

# Feature-licence checkboxes on User that an app role can switch on (Object Reference, User: UserPermissions*).
FEATURE_FLAGS: tuple[tuple[str, str], ...] = (
    ("UserPermissionsMarketingUser", "Marketing User"),
    ("UserPermissionsOfflineUser", "Offline User"),
    ("UserPermissionsCallCenterAutoLogin", "Auto-login Call Center"),
    ("UserPermissionsSupportUser", "Service Cloud User"),
)
FEATURE_FLAG_NAMES = frozenset(name for name, _ in FEATURE_FLAGS)


class AccessKind(models.TextChoices):
    """The kinds of Salesforce access an app role can carry; each label is how pages name it."""

    ROLE = "role", "Role"
    PERMISSION_SET = "permission_set", "Permission set"
    PERMISSION_SET_GROUP = "permission_set_group", "Permission set group"
    LICENCE = "licence", "Permission set licence"
    GROUP = "group", "Public group"
    QUEUE = "queue", "Queue"


# The kinds granted by a record of their own (an assignment or membership), in the order they are granted:
# a licence before the permission sets that need it.
GRANTED_KINDS = (
    AccessKind.LICENCE,
    AccessKind.PERMISSION_SET,
    AccessKind.PERMISSION_SET_GROUP,
    AccessKind.GROUP,
    AccessKind.QUEUE,
)


class OrgAccessItem(models.Model):
    """A role, permission set, permission set group, licence, public group or queue of the org, as Refresh read it."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="access_items")
    kind = models.CharField(max_length=30, choices=AccessKind.choices)
    salesforce_id = models.CharField("Salesforce ID", max_length=18)
    name = models.CharField("API name", max_length=255)
    label = models.CharField(max_length=255, blank=True)
    # A permission set's LicenseId when it is a permission set licence (0PL...): assigned first, automatically.
    licence_id = models.CharField(max_length=18, blank=True)
    missing = models.BooleanField(
        default=False, help_text="Deleted in the org since it was chosen (Refresh found it gone)."
    )
    remove_unmanaged = models.BooleanField(
        "Also remove access granted outside this console",
        default=False,
        help_text="Cycles then also revoke this item from linked users who should not have it even when someone "
        "granted it in Salesforce directly. Off: only what this console granted is ever revoked.",
    )
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "label", "name"]
        constraints = [
            models.UniqueConstraint(fields=["application", "kind", "salesforce_id"], name="one_org_item_per_id")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.display_name}"

    @property
    def display_name(self) -> str:
        return self.label or self.name


class AppRoleAccess(Versioned, models.Model):
    """The Salesforce access of one app role. Multi-valued access of a user's roles adds up; the profile and the
    Salesforce Role come from the user's role with the lowest precedence number."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="role_access")
    role_value = models.CharField("App role value", max_length=255, help_text="As appRoleAssignments carries it.")
    role_label = models.CharField("App role", max_length=255, blank=True)
    precedence = models.PositiveIntegerField(
        default=100,
        help_text="For users with several app roles: the profile and the Salesforce Role come from the "
        "role with the lowest number.",
    )
    profile_name = models.CharField(
        "Profile", max_length=255, blank=True, help_text="Empty: the profile named by the app role's value."
    )
    user_role = models.ForeignKey(
        OrgAccessItem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": AccessKind.ROLE},
        verbose_name="Salesforce Role",
    )
    items = models.ManyToManyField(OrgAccessItem, blank=True, related_name="roles")
    feature_flags = models.JSONField("Feature licences", default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["precedence", "role_label", "role_value"]
        constraints = [models.UniqueConstraint(fields=["application", "role_value"], name="one_access_per_app_role")]

    def __str__(self) -> str:
        return self.role_label or self.role_value

    @property
    def profile(self) -> str:
        return self.profile_name or self.role_value


class FreezeLeavers(models.TextChoices):
    NEVER = "never", "Never (deactivate only)"
    BEFORE = "before", "Freeze, then deactivate"
    INSTEAD = "instead", "Freeze instead of deactivating"


class AccessSettings(Versioned, models.Model):
    """What happens to a leaver's access, and whether the manager is provisioned."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="access_settings")
    revoke_on_deactivation = models.BooleanField(
        "Revoke managed access when a user is deactivated",
        default=True,
        help_text="Removes the permission sets, licences and group memberships this console granted, which frees "
        "permission set licences for others.",
    )
    freeze_leavers = models.CharField(
        "Freeze leavers",
        max_length=10,
        choices=FreezeLeavers.choices,
        default=FreezeLeavers.NEVER,
        help_text="Freezing (UserLogin.IsFrozen) blocks sign-in at once but keeps the licence. When Salesforce refuses "
        "a deactivation (a default lead or case owner, an approver), the user is frozen whatever this says.",
    )
    profile_by_precedence = models.BooleanField(
        "Profile from the app role with the lowest precedence number",
        default=False,
        help_text="For users with several app roles. Off: the user mapping's ProfileName expression decides, as in "
        "Entra (SingleAppRoleAssignment takes one of the roles). New applications have it on; a mapping imported "
        "from Entra turns it off.",
    )
    sync_manager = models.BooleanField(
        "Provision the manager",
        default=False,
        help_text="ManagerId from the user's manager in Entra, when the console provisioned that manager.",
    )

    def __str__(self) -> str:
        return f"Access settings of {self.application}"
