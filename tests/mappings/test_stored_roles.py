"""StoredAssignments.roles_for: the role values of the asked users the snapshot holds, read by one index probe per
id on PostgreSQL (mappings/directory/snapshot.py) and by an IN list elsewhere; the same answer either way."""

from __future__ import annotations

import pytest

from mappings.directory.models import AssignmentSnapshot, SnapshotUser
from mappings.directory.snapshot import StoredAssignments
from provisioning.applications import create_application

ROLES = [
    {"id": "r-standard", "value": "Standard User", "displayName": "Standard User", "isEnabled": True},
    {"id": "r-chatter", "value": "Chatter Free User", "displayName": "Chatter Free", "isEnabled": True},
]


def users(application, roles_by_id: dict[str, str]) -> None:
    SnapshotUser.objects.bulk_create(
        SnapshotUser(application=application, user_id=user_id, role_ids=roles, display_name=user_id, name_key=user_id)
        for user_id, roles in roles_by_id.items()
    )


@pytest.mark.django_db
def test_roles_for_answers_the_asked_users_of_this_application_only():
    app = create_application("UAT sandbox", suffix="uat")
    other = create_application("Second sandbox", suffix="two")
    AssignmentSnapshot.objects.update_or_create(application=app, defaults={"app_roles": ROLES})
    odd = "id 'with' \"quotes\", commas {braces} \\ and ünïcode"
    users(app, {"u1": "r-standard", "u2": "r-standard r-chatter", odd: "r-chatter", "u-default": ""})
    users(other, {"u3": "r-standard", "u1": "r-chatter"})
    stored = StoredAssignments(app)

    asked = ["u1", "u2", odd, "u-default", "u3", "missing", "u1", ""]
    roles = stored.roles_for(asked)

    assert set(roles) == {"u1", "u2", odd, "u-default"}  # u3 is the other application's; missing and "" are nobody
    assert roles["u1"] == ("Standard User",)  # this application's row, not the other's
    assert sorted(roles["u2"]) == ["Chatter Free User", "Standard User"]
    assert roles[odd] == ("Chatter Free User",)
    assert roles["u-default"] == stored.roles_of("u-default")
    assert {user_id: stored.roles_of(user_id) for user_id in roles} == roles
    assert stored.roles_for([]) == {} and stored.roles_for(["missing"]) == {}
