"""A 200 whose body does not have the documented shape is an error of that call, never an empty collection: the real
clients against the emulators answering in the wrong shape, and cycles that must not deactivate because of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from connections.clients.graph import GraphClient
from connections.clients.salesforce import SalesforceClient
from connections.clients.shapes import UnexpectedAnswer
from mappings.access.models import AccessSettings
from mappings.directory.assignments import AssignmentReader
from mappings.directory.changes import RECONCILE_AFTER
from mappings.directory.models import AssignmentSnapshot
from provisioning.models import CycleStatus, ProvisionedLink
from provisioning.tasks import run_cycle

pytestmark = pytest.mark.django_db(transaction=True)

GRAPH_CALLS = {
    "users": (r"/v1\.0/users(\?|$)", lambda g: list(g.iter_users(["id", "displayName"]))),
    "delta": (r"/v1\.0/users/delta(\?|$)", lambda g: list(g.delta(["id", "displayName"], None))),
    "assignments": (r"/appRoleAssignedTo(\?|$)", lambda g: list(g.iter_app_role_assignments())),
}


@pytest.fixture
def graph(configured_app, emu):
    client = GraphClient(configured_app.entra)
    client._sleep = lambda seconds: None
    return client


@pytest.mark.parametrize("call", sorted(GRAPH_CALLS))
@pytest.mark.parametrize(
    ("shape", "said"),
    [
        ("no_value", "without its `value` list"),
        ("value_not_list", "`value` being an object, not a list"),
        ("item_without_id", "item 0 of `value` without its `id`"),
        ("next_link_not_string", "`@odata.nextLink` being a number, not a link"),
        ("html", "an HTML page instead of JSON"),
        ("not_json", "text/plain instead of JSON"),
    ],
)
def test_a_graph_collection_of_the_wrong_shape_is_an_error_naming_the_call(graph, emu, call, shape, said):
    path, read = GRAPH_CALLS[call]
    emu.control.malformed_answers("entra", path, shape)
    with pytest.raises(UnexpectedAnswer) as caught:
        read(graph)
    message = str(caught.value)
    assert said in message and "Microsoft Graph answered GET https://" in message
    assert caught.value.request.startswith("GET https://") and "?" not in caught.value.request


@pytest.mark.parametrize("shape", ["no_value", "item_without_id", "value_not_list"])
def test_a_groups_transitive_members_of_the_wrong_shape_are_an_error_not_an_empty_group(graph, emu, shape):
    users = emu.control.assigned_user_ids()[:3]
    group = emu.control.create_group("Shape testers", members=users)
    emu.control.malformed_answers("entra", f"/groups/{group['id']}/transitiveMembers", shape)
    with pytest.raises(UnexpectedAnswer) as caught:
        list(graph.groups_user_members([group["id"]], ["id"]))
    assert f"/groups/{group['id']}/transitiveMembers" in str(caught.value)
    # The same group read again (the rule used up) has its members.
    [(_, members)] = list(graph.groups_user_members([group["id"]], ["id"]))
    assert sorted(m["id"] for m in members) == sorted(users)


def test_a_group_assignment_whose_members_answer_wrongly_fails_the_assignment_read(graph, emu):
    users = emu.control.assigned_user_ids()[:2]
    group = emu.control.create_group("Assigned group", members=users)
    emu.control.assign(group["id"])
    emu.control.malformed_answers("entra", "/transitiveMembers", "no_value")
    with pytest.raises(UnexpectedAnswer):
        AssignmentReader(graph).roles_by_user()


@pytest.mark.parametrize(
    ("shape", "said"),
    [
        ("no_records", "with no `records` list"),
        ("records_not_list", "`records` being an object"),
        ("done_missing", "`done` is null"),
        ("not_done_without_next", "not done and has no `nextRecordsUrl`"),
        ("html", "something that is not JSON"),
    ],
)
def test_a_salesforce_query_answer_of_the_wrong_shape_is_an_error_not_an_empty_result(configured_app, emu, shape, said):
    client = SalesforceClient(configured_app.salesforce)
    client._sleep = lambda seconds: None
    client.max_retries = 0
    emu.control.malformed_answers("salesforce", r"/query/?(\?|$)", shape)
    with pytest.raises(UnexpectedAnswer) as caught:
        list(client.query("SELECT Id, Username FROM User"))
    assert said in str(caught.value) and "/query/" in caught.value.request
    assert list(client.query("SELECT Id FROM User LIMIT 1"))


def test_an_assignment_list_without_value_fails_the_cycle_and_deactivates_nobody(configured_app, emu):
    job = configured_app.job
    first = run_cycle(job.pk)
    active = set(ProvisionedLink.objects.filter(job=job, active=True).values_list("target_id", flat=True))
    assert active
    # A full cycle reads appRoleAssignedTo in full when the snapshot's reconciliation is due (else it follows the
    # changes since the last cycle).
    AssignmentSnapshot.objects.filter(application=configured_app).update(
        refreshed_at=timezone.now() - RECONCILE_AFTER - timedelta(minutes=1)
    )
    emu.control.malformed_answers("entra", r"/appRoleAssignedTo(\?|$)", "no_value", count=50)
    second = run_cycle(job.pk, kind="initial")
    second.refresh_from_db()
    assert first.pk != second.pk and second.status == CycleStatus.FAILED
    assert second.error_code == "UNEXPECTED_ANSWER" and "`value`" in second.error_message
    assert second.disabled == 0
    assert all(emu.control.get_salesforce_user(id=target)["IsActive"] for target in active)


def test_a_manager_answer_without_id_leaves_managerid_as_it_is(configured_app, emu):
    AccessSettings.objects.filter(application=configured_app).update(sync_manager=True)
    job = configured_app.job
    run_cycle(job.pk)
    links = dict(ProvisionedLink.objects.filter(job=job).exclude(target_id="").values_list("source_id", "target_id"))
    state = emu.control._entra.state
    user, manager = next((u, m) for u, m in state.managers.items() if u in links and m in links)
    assert emu.control.get_salesforce_user(id=links[user])["ManagerId"] == links[manager]
    emu.control.update_entra_user(user, givenName="Renamed")  # read from the delta: no $expand
    emu.control.malformed_answers("entra", rf"/users/{user}/manager", "empty_object", count=5)
    cycle = run_cycle(job.pk)
    cycle.refresh_from_db()
    assert cycle.kind == "incremental"
    record = emu.control.get_salesforce_user(id=links[user])
    assert record["FirstName"] == "Renamed" and record["ManagerId"] == links[manager]
