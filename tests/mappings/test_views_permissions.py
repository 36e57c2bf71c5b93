"""Every Mappings and Users and groups view: anonymous -> sign in, no role -> 403, reader -> read only
(GET 200, POST 403, nothing changes), administrator -> every page; every page titled with labelled controls."""

from __future__ import annotations

import pytest
from django.urls import reverse

from console.models import AuditEntry
from mappings.models import (
    AssignmentSnapshot,
    AttributeMapping,
    ObjectMapping,
    ScopingClause,
    ScopingFilter,
    SnapshotAssignment,
)
from tests.views.test_accessibility import unlabelled

pytestmark = pytest.mark.django_db

PAGES = [
    ("mapping_editor", ()),
    ("mapping_restore", ()),
    ("attribute_mapping_add", ()),
    ("attribute_mapping_edit", ("row",)),
    ("scoping_filter_add", ()),
    ("scoping_filter_edit", ("filter",)),
    ("expression_test", ()),
    ("mapping_export", ()),
    ("mapping_import", ()),
    ("users_and_groups", ()),
    ("assignments_status", ()),
    ("assignment_members", ("assignment",)),
]
ACTIONS = [
    ("mapping_save", ()),
    ("mapping_restore", ()),
    ("mapping_refresh_targets", ()),
    ("attribute_mapping_add", ()),
    ("attribute_mapping_edit", ("row",)),
    ("attribute_mapping_delete", ("row",)),
    ("scoping_filter_add", ()),
    ("scoping_filter_edit", ("filter",)),
    ("scoping_filter_delete", ("filter",)),
    ("expression_test", ()),
    ("mapping_import", ()),
    ("assignments_refresh", ()),
    ("assignment_add", ()),
    ("assignment_remove", ()),
    ("import_roles", ()),
]


@pytest.fixture
def world(application):
    mapping = ObjectMapping.objects.get(application=application)
    scoping_filter = ScopingFilter.objects.create(object_mapping=mapping, title="Sales")
    ScopingClause.objects.create(
        scoping_filter=scoping_filter, attribute="department", operator="EQUALS", value="Sales"
    )
    row = AttributeMapping.objects.get(object_mapping=mapping, target_attribute="FirstName")
    group = SnapshotAssignment.objects.create(
        application=application,
        assignment_id="a1",
        principal_id="g1",
        principal_type="Group",
        display_name="Sales Team",
        name_key="sales team",
        role_id="r1",
        role_label="Sales Representative",
        members=0,
    )
    return {"application": application, "row": row.pk, "filter": scoping_filter.pk, "assignment": group.assignment_id}


def _url(name: str, args: tuple, world: dict) -> str:
    return reverse(name, args=[world["application"].slug, *(world[a] for a in args)])


def _state(application) -> tuple:
    mapping = ObjectMapping.objects.get(application=application)
    rows = list(AttributeMapping.objects.filter(object_mapping=mapping).values_list().order_by("pk"))
    clauses = list(ScopingClause.objects.values_list().order_by("pk"))
    snapshot = list(AssignmentSnapshot.objects.filter(application=application).values_list())
    assignments = list(SnapshotAssignment.objects.filter(application=application).values_list().order_by("pk"))
    return mapping.version, mapping.sandbox_suffix, rows, clauses, AuditEntry.objects.count(), snapshot, assignments


@pytest.mark.parametrize(("name", "args"), PAGES + ACTIONS)
def test_anonymous_is_sent_to_sign_in(client, world, name, args):
    target = _url(name, args, world)
    for response in (client.get(target), client.post(target)):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_user_without_role_is_refused(client, roleless_user, world, name, args):
    client.force_login(roleless_user)
    assert client.get(_url(name, args, world)).status_code == 403


def test_reader_reads_every_page_and_changes_nothing(client, reader_user, world):
    client.force_login(reader_user)
    for name, args in PAGES:
        response = client.get(_url(name, args, world))
        assert response.status_code == 200, name
    before = _state(world["application"])
    for name, args in ACTIONS:
        assert client.post(_url(name, args, world), {"x": "y"}).status_code == 403, name
    assert _state(world["application"]) == before


def test_every_page_is_titled_and_labelled_for_both_roles(client, reader_user, admin_user, world):
    for user in (reader_user, admin_user):
        client.force_login(user)
        for name, args in PAGES:
            if name in ("mapping_export", "assignments_status"):  # a download, a fragment htmx polls
                continue
            response = client.get(_url(name, args, world))
            assert response.status_code == 200, (user, name)
            title, missing = unlabelled(response.content.decode())
            assert title, name
            assert missing == [], (name, missing)


def test_export_is_a_json_download(reader_client, world):
    response = reader_client.get(_url("mapping_export", (), world))
    assert response["Content-Type"] == "application/json"
    assert 'filename="uat-sandbox-user-mapping.json"' in response["Content-Disposition"]
    assert response.json()["attributeMappings"]
