"""Doubt never deprovisions: a user whose scoping cannot be evaluated is escrowed with the error, never taken out of
scope, through real cycles against the emulators."""

from __future__ import annotations

import pytest
from django.urls import reverse

from provisioning.models import CycleStatus, Escrow, LogStatus, ProvisionedLink, ProvisioningLogEntry
from provisioning.tasks import run_cycle
from tests.mappings.test_views_scope import _data

pytestmark = pytest.mark.django_db(transaction=True)

CATASTROPHIC = "^(a|aa)+$"  # backtracks exponentially on "aaaa...a!"


def run(job, **kwargs):
    cycle = run_cycle(job.pk, **kwargs)
    cycle.refresh_from_db()
    assert cycle.status in (CycleStatus.SUCCEEDED, CycleStatus.COMPLETED_WITH_ERRORS), cycle.error_message
    return cycle


def add_filter(client, application, title, clauses):
    response = client.post(reverse("scoping_filter_add", args=[application.slug]), _data(title, clauses))
    assert response.status_code == 302


def test_a_regex_over_its_time_limit_escrows_a_provisioned_user_and_never_deactivates_them(
    configured_app, emu, admin_client
):
    job = configured_app.job
    run(job)
    link = ProvisionedLink.objects.filter(job=job, active=True).exclude(target_id="").first()
    victim = link.source_id
    emu.control.update_entra_user(victim, department="a" * 40 + "!")
    # Everyone stays in scope (a department that is not all a's, or none) but for whom the regex cannot tell.
    add_filter(admin_client, configured_app, "Not the a-team", [("department", "NOT REGEX MATCH", CATASTROPHIC)])
    add_filter(admin_client, configured_app, "No department", [("department", "IS NULL", "")])
    active_before = set(ProvisionedLink.objects.filter(job=job, active=True).values_list("source_id", flat=True))

    cycle = run(job)
    assert cycle.kind == "initial" and cycle.disabled == 0  # the mapping changed: every user evaluated again
    assert emu.control.get_salesforce_user(id=link.target_id)["IsActive"] is True
    link.refresh_from_db()
    assert link.active is True and link.in_scope is True
    escrow = Escrow.objects.get(job=job, source_id=victim)
    assert escrow.error_code == "ScopingFilterError" and "catastrophic backtracking" in escrow.error_message
    entry = ProvisioningLogEntry.objects.get(cycle=cycle, source_id=victim)
    assert entry.status == LogStatus.FAILURE and "never deactivated on doubt" in entry.error_recommendation
    assert any("could not be evaluated" in step.get("description", "") + str(step) for step in entry.steps)
    # Nobody else was deactivated either.
    assert set(ProvisionedLink.objects.filter(job=job, active=True).values_list("source_id", flat=True)) == (
        active_before
    )

    # Fixed in Entra: the next cycle settles the user, in scope, and the escrow resolves.
    emu.control.update_entra_user(victim, department="Sales")
    Escrow.objects.filter(job=job).update(next_attempt_at=cycle.started_at)
    run(job, kind="initial")
    assert not Escrow.objects.filter(job=job, source_id=victim).exists()
    assert emu.control.get_salesforce_user(id=link.target_id)["IsActive"] is True


def test_a_value_that_is_no_whole_number_escrows_instead_of_scoping_out(configured_app, emu, admin_client):
    job = configured_app.job
    run(job)
    link = ProvisionedLink.objects.filter(job=job, active=True).exclude(target_id="").first()
    emu.control.update_entra_user(link.source_id, employeeId="E-0042")
    add_filter(admin_client, configured_app, "Senior", [("employeeId", "Greater_Than", "10")])
    add_filter(admin_client, configured_app, "No number", [("employeeId", "IS NULL", "")])
    cycle = run(job)
    assert emu.control.get_salesforce_user(id=link.target_id)["IsActive"] is True
    escrow = Escrow.objects.get(job=job, source_id=link.source_id)
    assert "is not a whole number" in escrow.error_message
    assert not ProvisioningLogEntry.objects.filter(cycle=cycle, source_id=link.source_id, action="Disable").exists()
