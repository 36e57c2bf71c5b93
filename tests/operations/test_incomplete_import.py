"""An incomplete import deactivates nobody: a page of users or a group's members that could not be read leaves the
users that were read created and updated, nobody deactivated, the watermark where it was, and the Overview saying
why and what to do. Real cycles against the emulators, with the real clients."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from connections.clients import graph as graph_module
from mappings.directory.changes import RECONCILE_AFTER
from mappings.directory.models import AssignmentSnapshot
from provisioning.models import CycleKind, CycleStatus, LogAction, LogStatus, ProvisionedLink, ProvisioningLogEntry

from .conftest import run

pytestmark = pytest.mark.django_db(transaction=True)


def active_in_salesforce(emu, link: ProvisionedLink) -> bool:
    return emu.control.get_salesforce_user(id=link.target_id)["IsActive"]


def directly_assigned_links(emu, job) -> list[ProvisionedLink]:
    """Links of provisioned users assigned by an assignment of their own."""
    links = []
    for link in ProvisionedLink.objects.filter(job=job, active=True).exclude(target_id="").order_by("pk"):
        roles = emu.control.get_entra_user(link.source_id)["appRoleAssignments"]
        if roles and all(a["principalId"] == link.source_id for a in roles):
            links.append(link)
    return links


def test_a_page_of_users_that_cannot_be_read_deactivates_nobody_and_updates_who_was_read(
    configured_app, emu, admin_client, monkeypatch
):
    job = configured_app.job
    assert run(job).status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS)
    leaver = directly_assigned_links(emu, job)[0]
    emu.control.unassign(leaver.source_id)
    for link in ProvisionedLink.objects.filter(job=job).exclude(target_id=""):
        emu.control.update_entra_user(link.source_id, givenName="Renamed")
    monkeypatch.setattr(graph_module, "PAGE_SIZE", 10)  # several pages of users
    emu.control.malformed_answers("entra", r"/v1\.0/users\?.*skiptoken", "html", count=1)  # the second page

    cycle = run(job, kind="initial")
    assert cycle.status == CycleStatus.COMPLETED_WITH_ERRORS and cycle.error_code == "IMPORT_INCOMPLETE"
    assert "a page of users could not be read from Microsoft Graph" in cycle.error_message
    assert "HTML page" in cycle.error_message and "nobody was deactivated" in cycle.error_message
    assert cycle.disabled == 0 and cycle.updated > 0  # the users read before the page that failed were updated
    assert active_in_salesforce(emu, leaver)
    leaver.refresh_from_db()
    assert leaver.active
    dropped = ProvisioningLogEntry.objects.filter(cycle=cycle, source_id=leaver.source_id).first()
    if dropped is not None:  # the leaver was on a page that was read
        assert dropped.action == LogAction.DISABLE and dropped.status == LogStatus.SKIPPED
        assert "import of this cycle was incomplete" in dropped.steps[-1]["description"]
    job.refresh_from_db()
    assert job.needs_initial_cycle  # the watermark did not move: the next cycle reads everything

    page = admin_client.get(reverse("application_overview", args=[configured_app.slug])).content.decode()
    assert "import was incomplete: nobody was deactivated" in page and "Test Connection" in page

    complete = run(job)
    assert complete.kind == "initial" and complete.error_code == "" and complete.disabled >= 1
    assert not active_in_salesforce(emu, leaver)
    page = admin_client.get(reverse("application_overview", args=[configured_app.slug])).content.decode()
    assert "import was incomplete" not in page


def test_a_group_whose_members_cannot_be_read_keeps_its_members_and_deactivates_nobody(configured_app, emu):
    job = configured_app.job
    run(job)
    member, leaver = directly_assigned_links(emu, job)[:2]
    role = emu.control.get_entra_user(member.source_id)["appRoleAssignments"][0]["appRoleId"]
    group = emu.control.create_group("Sales sandbox users", members=[member.source_id])
    emu.control.assign(group["id"], role)
    assert run(job).error_code == ""  # the group is read and stored in the snapshot
    emu.control.unassign(member.source_id)  # now assigned only through the group
    emu.control.unassign(leaver.source_id)  # no longer assigned at all
    emu.control.malformed_answers("entra", f"/groups/{group['id']}/transitiveMembers", "no_value", count=1)

    # A full read (its reconciliation due): cycles that follow the changes read no members.
    AssignmentSnapshot.objects.filter(application=configured_app).update(
        refreshed_at=timezone.now() - RECONCILE_AFTER - timedelta(minutes=1)
    )
    cycle = run(job, kind=CycleKind.INITIAL)
    assert cycle.status == CycleStatus.COMPLETED_WITH_ERRORS and cycle.error_code == "IMPORT_INCOMPLETE"
    assert f"the members of group {group['id']} could not be read" in cycle.error_message
    assert cycle.disabled == 0
    assert active_in_salesforce(emu, member) and active_in_salesforce(emu, leaver)
    snapshot = AssignmentSnapshot.objects.get(application=configured_app)
    assert "incomplete" in snapshot.error  # the Users and groups page keeps the last complete read and says so

    emu.control.reset_counters()
    after = run(job)  # the group reads again
    assert after.error_code == "" and after.disabled == 1
    assert active_in_salesforce(emu, member) and not active_in_salesforce(emu, leaver)
