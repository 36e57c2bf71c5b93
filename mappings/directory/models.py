"""The stored snapshot of an application's assignments: what the Users and groups page lists and what cycles
provision from. How it is read, written and kept current is snapshot.py's; the warnings are warnings.py's."""

from __future__ import annotations

from django.db import models

from connections.models import Application
from console.concurrency import Versioned

KEY_LENGTH = 256  # lower-case copies of names, UPNs and mails: the list's order and its prefix search


class PrincipalType(models.TextChoices):
    """What an assignment names (appRoleAssignment.principalType)."""

    USER = "User", "User"
    GROUP = "Group", "Group"
    SERVICE_PRINCIPAL = "ServicePrincipal", "Service principal"


class SnapshotSource(models.TextChoices):
    CYCLE = "cycle", "a provisioning cycle"
    REFRESH = "refresh", "Refresh from Entra"


class AssignmentSnapshot(Versioned):
    """One application's snapshot: when it was read, what it holds in figures, and the last refresh that failed
    (the rows of the last good read stay). Its `edit_version` counts the assignments added or removed from the
    console (mappings/assignments.py), so that a page opened before someone else's change of the same user or
    group is refused rather than applied blind; refreshes leave it alone."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="assignment_snapshot")
    as_of = models.DateTimeField(null=True, blank=True, help_text="When the read behind the stored rows began.")
    refreshed_at = models.DateTimeField(null=True, blank=True)
    refreshed_by = models.CharField(max_length=20, choices=SnapshotSource.choices, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True, help_text="Last assignment added or removed here.")
    app_roles = models.JSONField(default=list)
    assignments = models.PositiveIntegerField(default=0)
    users = models.PositiveIntegerField(default=0, help_text="Users with an assignment of their own.")
    groups = models.PositiveIntegerField(default=0, help_text="Assignments of groups.")
    reached = models.PositiveIntegerField(default=0, help_text="Users the assignments reach: whom a cycle provisions.")
    warning_counts = models.JSONField(default=dict)
    graph_calls = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    refresh_requested_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_at = models.DateTimeField(null=True, blank=True)
    # What incremental cycles follow the assignments by between full reads (changes.py): the groups/delta link taken
    # before the last full read, and the groups nested in each assigned group as that read found them.
    group_delta_link = models.TextField(blank=True)
    nested_groups = models.JSONField(default=dict)
    # When the last cycle began reading the assignments: the next one asks the audit log what changed since then.
    audit_since = models.DateTimeField(null=True, blank=True)
    # Users whose assignments changed in the snapshot but whom no cycle has provisioned since (a cycle that failed
    # after reading the changes): the next cycle takes them again. ["*"]: the last full read was not provisioned.
    pending_users = models.JSONField(default=list)
    # A digest of each table's rows as the last full read stored them (snapshot.py): a refresh that computes the same
    # rows writes nothing and need not read them back to know it. Any change made by apply() clears it.
    row_digests = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Assignments of {self.application} as of {self.as_of}"


class Named(models.Model):
    """A row of one application's snapshot that names a user or group: as the page shows it, and the lower-case
    name it is ordered by."""

    # Deleting the application deletes the rows (Django's cascade). No database constraint or index of its own: a
    # refresh writes some 400,000 rows of one application at once, and PostgreSQL checked the reference of each at
    # commit; every index of these tables begins with the application anyway.
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    display_name = models.CharField(max_length=512)
    upn = models.CharField(max_length=512, blank=True)
    mail = models.CharField(max_length=512, blank=True)
    name_key = models.CharField(max_length=KEY_LENGTH)

    class Meta:
        abstract = True


class Searchable(Named):
    """A Named row found by the start of its UPN or mail too."""

    upn_key = models.CharField(max_length=KEY_LENGTH, blank=True)
    mail_key = models.CharField(max_length=KEY_LENGTH, blank=True)

    class Meta:
        abstract = True


class SnapshotAssignment(Searchable):
    """One assignment of the enterprise application (appRoleAssignedTo), with the figures and warnings of its
    refresh."""

    assignment_id = models.CharField(max_length=100)
    principal_id = models.CharField(max_length=64)
    principal_type = models.CharField(max_length=40)
    role_id = models.CharField(max_length=64)
    role_label = models.CharField(max_length=512)
    default_access = models.BooleanField(default=False)
    created = models.CharField(max_length=40, blank=True)
    members = models.PositiveIntegerField(null=True, blank=True, help_text="A group's users, nested groups included.")
    members_warned = models.PositiveIntegerField(default=0, help_text="Of those, users with a warning.")
    warnings = models.PositiveIntegerField(default=0, help_text="Warning bits (warnings.KINDS).")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "assignment_id"], name="snapshot_assignment_unique"),
        ]
        indexes = [
            # The list's (name, id) order, with every column a search and the type and warning filters test: a page's
            # ids are found from this index alone (mappings/assignment_list.py, LIST_PAGES).
            models.Index(
                fields=["application", "name_key", "id", "upn_key", "mail_key", "principal_type", "warnings"],
                name="snapshot_assignment_walk",
            ),
            models.Index(fields=["application", "role_id", "name_key", "id"], name="snapshot_assignment_role"),
            models.Index(fields=["application", "principal_id"], name="snapshot_assignment_principal"),
            # No index of its own for the warning filter on PostgreSQL: the walk holds the warnings (migration 0016).
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.role_label})"


class SnapshotGrant(Named):
    """One way an assignment reaches a user: the user's own assignment, or a group's that contains them (nested
    groups expanded). The user's names are copied here so that a group's members page in order."""

    assignment_id = models.CharField(max_length=100)
    user_id = models.CharField(max_length=64)

    class Meta:
        # One row per (assignment, user) is the writers' to keep (snapshot.py writes a map keyed by the pair, apply()
        # deletes before it adds): a unique index beside the order index cost a tenth of storing 220,000 grants.
        indexes = [
            models.Index(fields=["application", "assignment_id", "name_key", "user_id"], name="snapshot_grant_order"),
            models.Index(fields=["application", "user_id"], name="snapshot_grant_user"),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} through {self.assignment_id}"


class SnapshotUser(Searchable):
    """A user the assignments reach, with the app roles a cycle gives them and their warnings."""

    user_id = models.CharField(max_length=64)
    role_ids = models.TextField(blank=True, help_text="App role ids, space-separated; none for Default Access only.")
    direct = models.BooleanField(default=False, help_text="Assigned with an assignment of their own.")
    groups = models.PositiveIntegerField(default=0, help_text="Group assignments that reach the user.")
    warnings = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "user_id"], name="snapshot_user_unique")]
        indexes = [
            # (name, user id) order with what a search tests: users_through_groups reads ids from it alone. It asks
            # only for users reached through groups, so only they are indexed (the users assigned directly, most of
            # them, are searched in the assignments' list); so are the search indexes of migration 0016.
            models.Index(
                fields=["application", "name_key", "user_id", "upn_key", "mail_key", "direct", "id"],
                name="snapshot_user_walk",
                condition=models.Q(direct=False),
            )
        ]

    def __str__(self) -> str:
        return self.display_name
