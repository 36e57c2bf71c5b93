"""The engine on a real qcluster process (ORM broker, and Redis when CI_REDIS_URL is set) against the emulators."""

from __future__ import annotations

import os
import time

import pytest
from django_q.conf import Conf
from django_q.models import Task

from provisioning import scheduling
from provisioning.models import (
    CycleKind,
    CycleStatus,
    LogAction,
    LogStatus,
    ProvisionedLink,
    ProvisioningCycle,
    ProvisioningLogEntry,
)
from tests.engine.cluster import Cluster, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BROKERS = ["orm"] + (["redis"] if os.environ.get("CI_REDIS_URL") else [])
LOGIN = "POST /services/Soap/u/XX.X"


@pytest.fixture(params=BROKERS)
def cluster(request, configured_app, monkeypatch):
    """A running qcluster; this process enqueues to the same broker and queue."""
    name = f"engine-test-{os.getpid()}"
    redis_url = os.environ["CI_REDIS_URL"] if request.param == "redis" else ""
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", name)
    if redis_url:
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", redis_url)
    running = Cluster(cluster_name=name, redis_url=redis_url).start()
    yield running
    running.stop()


def next_cycle(job, after: int, timeout: float = 60.0, cluster=None) -> ProvisioningCycle:
    """Ask for a cycle (Sync now) and wait until the cluster has finished it."""
    scheduling.sync_now(job)
    try:
        return wait_for(
            lambda: ProvisioningCycle.objects.filter(job=job, pk__gt=after, finished_at__isnull=False).first(),
            timeout,
            message="a finished cycle",
        )
    except AssertionError:
        raise AssertionError(f"No cycle finished. qcluster said:\n{cluster.output() if cluster else ''}") from None


def directly_assigned(emu, user_id) -> bool:
    """Assigned by a direct assignment of one role (not through a group)."""
    assignments = emu.control.get_entra_user(user_id)["appRoleAssignments"]
    return len(assignments) == 1 and assignments[0]["principalId"] == user_id


def skipped_tasks() -> int:
    return sum(1 for task in Task.objects.all() if "another cycle of this job is running" in str(task.result))


def sf_user(emu, upn):
    return emu.control.get_salesforce_user(username=f"{upn}.uat")


def test_provisioning_on_a_real_cluster_creates_updates_disables_and_enables(configured_app, emu, cluster):
    job = configured_app.job
    assigned = emu.control.assigned_user_ids()
    victim = next(
        emu.control.get_entra_user(uid)
        for uid in assigned
        if emu.control.get_entra_user(uid).get("mail")
        and sf_user(emu, emu.control.get_entra_user(uid)["userPrincipalName"]) is None
    )
    emu.control.add_taken_username(f"{victim['userPrincipalName']}.uat")

    # Initial cycle: the assigned users, with the default mapping and the sandbox suffix.
    first = next_cycle(job, 0, cluster=cluster)
    assert first.kind == CycleKind.INITIAL and first.status == CycleStatus.COMPLETED_WITH_ERRORS, first.error_message
    assert first.created > 20
    links = ProvisionedLink.objects.filter(job=job).exclude(target_id="")
    assert links.count() == first.created + first.updated + first.unchanged
    for link in links:
        entra = emu.control.get_entra_user(link.source_id)
        record = emu.control.get_salesforce_user(id=link.target_id)
        assert record["Username"] == f"{entra['userPrincipalName']}.uat"
    failure = ProvisioningLogEntry.objects.get(cycle=first, source_id=victim["id"])
    assert failure.status == LogStatus.FAILURE and failure.error_code == "SalesforceDuplicateUserName"

    # An Entra change arrives in the next (incremental) cycle, through a session that expires mid-cycle.
    changed = next(link for link in links.filter(active=True).order_by("pk") if directly_assigned(emu, link.source_id))
    emu.control.update_entra_user(changed.source_id, givenName="Augusta")
    emu.control.set_latency(400, "salesforce")
    logins = emu.control.counters()["salesforce"].get(LOGIN, 0)
    scheduling.sync_now(job)
    wait_for(lambda: emu.control.counters()["salesforce"].get(LOGIN, 0) > logins, 30, 0.01, message="a login")
    time.sleep(0.6)  # the login is answered after 0.4 s; the next call is still on its way
    emu.control.expire_sessions()
    emu.control.set_fault_rates("salesforce", rate_503=0.2)
    second = wait_for(
        lambda: ProvisioningCycle.objects.filter(job=job, pk__gt=first.pk, finished_at__isnull=False).first(),
        60,
        message="the incremental cycle",
    )
    emu.control.set_fault_rates("salesforce")
    emu.control.set_latency(0, "salesforce")
    assert second.kind == CycleKind.INCREMENTAL, second.error_message
    assert second.updated == 1 and second.created == 0
    assert emu.control.counters()["salesforce"][LOGIN] == logins + 2  # the cycle's login, then one more
    assert emu.control.get_salesforce_user(id=changed.target_id)["FirstName"] == "Augusta"

    # Unassigning disables; assigning again enables.
    assert emu.control.unassign(changed.source_id) == 1
    third = next_cycle(job, second.pk, cluster=cluster)
    assert third.disabled == 1
    assert emu.control.get_salesforce_user(id=changed.target_id)["IsActive"] is False
    assert ProvisioningLogEntry.objects.get(cycle=third, source_id=changed.source_id).action == LogAction.DISABLE
    emu.control.assign(changed.source_id, "Standard User")
    fourth = next_cycle(job, third.pk, cluster=cluster)
    assert fourth.enabled == 1
    assert emu.control.get_salesforce_user(id=changed.target_id)["IsActive"] is True


@pytest.mark.parametrize("cluster", ["orm"], indirect=True)
def test_a_worker_killed_mid_cycle_leaves_no_duplicate_and_loses_no_change(configured_app, emu, cluster):
    job = configured_app.job
    first = next_cycle(job, 0, cluster=cluster)
    newcomer = emu.control.create_entra_user(
        userPrincipalName="grace.hopper@contoso.onmicrosoft.com",
        mail="grace.hopper@contoso.com",
        givenName="Grace",
        surname="Hopper",
        displayName="Grace Hopper",
        accountEnabled=True,
    )
    emu.control.assign(newcomer["id"], "Standard User")
    changed = ProvisionedLink.objects.filter(job=job, active=True).order_by("pk").first()
    emu.control.update_entra_user(changed.source_id, surname="Lovelace")

    # Slow remote systems, two cycles asked for at once on two workers: one runs, the other is skipped.
    emu.control.set_latency(250)
    scheduling.sync_now(job)
    scheduling.sync_now(job)
    running = wait_for(
        lambda: ProvisioningCycle.objects.filter(job=job, pk__gt=first.pk, status=CycleStatus.RUNNING).first(),
        30,
        message="a running cycle",
    )
    wait_for(lambda: skipped_tasks() == 1, 30, message="the second task to be skipped")
    wait_for(lambda: sum(emu.control.counters()["salesforce"].values()) > 0, 30, message="Salesforce traffic")
    cluster.kill()
    assert ProvisioningCycle.objects.filter(job=job, pk__gt=first.pk).count() == 1

    emu.control.set_latency(0)
    cluster.start()
    after = next_cycle(job, running.pk, cluster=cluster)
    assert after.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), after.error_message
    running.refresh_from_db()
    assert running.status == CycleStatus.CRASHED

    usernames = [u["Username"].lower() for u in emu.control.salesforce_users()]
    assert len(usernames) == len(set(usernames))
    assert sf_user(emu, newcomer["userPrincipalName"])["IsActive"] is True
    assert emu.control.get_salesforce_user(id=changed.target_id)["LastName"] == "Lovelace"
    assert ProvisionedLink.objects.filter(job=job, source_id=newcomer["id"]).count() == 1
