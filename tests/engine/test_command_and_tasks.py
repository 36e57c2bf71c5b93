"""`manage.py provisioning ...` and the task helpers: On/Off with the schedule, sync now, restart, status."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from mappings.models import AttributeMapping, MappingType
from provisioning.models import (
    CycleKind,
    CycleStatus,
    Escrow,
    LogStatus,
    ProvisionedLink,
    ProvisioningCycle,
    ProvisioningLogEntry,
)

pytestmark = pytest.mark.django_db(transaction=True)


def command(*args) -> str:
    out = StringIO()
    call_command("provisioning", *args, stdout=out)
    return out.getvalue()


def test_start_and_stop_switch_provisioning_and_its_schedule(configured_app):
    command("start", configured_app.slug)
    job = configured_app.job
    job.refresh_from_db()
    assert job.enabled
    assert Schedule.objects.filter(name=f"provisioning-cycle-{job.pk}").count() == 1
    command("stop", configured_app.slug)
    job.refresh_from_db()
    assert not job.enabled
    assert not Schedule.objects.filter(name=f"provisioning-cycle-{job.pk}").exists()


def test_sync_now_in_the_foreground_runs_a_cycle_and_prints_its_counters(configured_app, emu):
    out = command("sync-now", configured_app.slug, "--foreground")
    cycle = ProvisioningCycle.objects.get(job=configured_app.job)
    assert cycle.kind == CycleKind.INITIAL
    assert f"created={cycle.created}" in out and cycle.created > 0
    status = json.loads(command("status", configured_app.slug, "--json"))
    assert status["last_cycle"]["cycle_id"] == cycle.cycle_id
    assert status["next_cycle"] == "incremental"
    assert status["links"] == ProvisionedLink.objects.filter(job=configured_app.job).count()


def test_unknown_application_is_a_clear_error(db):
    with pytest.raises(CommandError, match="No application"):
        command("status", "nope")


def test_restart_forgets_watermark_and_escrows_keeps_links_and_runs_an_initial_cycle(configured_app, emu):
    job = configured_app.job
    command("sync-now", configured_app.slug, "--foreground")
    links = ProvisionedLink.objects.filter(job=job).count()
    assert Escrow.objects.filter(job=job).exists()
    job.refresh_from_db()
    job.quarantine_reason = "EncounteredQuarantineException"
    job.save()

    command("restart", configured_app.slug)  # tests run tasks synchronously: the cycle runs here
    job.refresh_from_db()
    assert not job.quarantine_reason
    last = ProvisioningCycle.objects.filter(job=job).order_by("-pk").first()
    assert last.kind == CycleKind.INITIAL and last.trigger == "restart"
    assert last.status == CycleStatus.COMPLETED_WITH_ERRORS  # escrows were cleared: the bad users are tried again
    assert last.created == 0
    assert ProvisionedLink.objects.filter(job=job).count() == links
    assert job.watermark


def test_an_unknown_profile_fails_that_user_with_what_to_do(configured_app, emu):
    AttributeMapping.objects.filter(object_mapping=configured_app.user_mapping, target_attribute="ProfileName").update(
        mapping_type=MappingType.CONSTANT, constant_value="Ghost Profile", expression=""
    )
    command("sync-now", configured_app.slug, "--foreground")
    entry = ProvisioningLogEntry.objects.filter(
        status=LogStatus.FAILURE, error_code="SalesforceProfileNotFound"
    ).first()
    assert entry is not None
    assert (
        entry.error_reason == "Profile 'Ghost Profile' does not exist in the org: import roles or fix the assignment."
    )


def test_redacted_values_reach_salesforce_but_never_the_log_or_the_link(configured_app, emu):
    AttributeMapping.objects.filter(object_mapping=configured_app.user_mapping, target_attribute="FirstName").update(
        mapping_type=MappingType.EXPRESSION, expression="Redact([givenName])", source_attribute=""
    )
    command("sync-now", configured_app.slug, "--foreground")
    link = ProvisionedLink.objects.filter(job=configured_app.job, active=True).exclude(target_id="").first()
    entra = emu.control.get_entra_user(link.source_id)
    assert emu.control.get_salesforce_user(id=link.target_id)["FirstName"] == entra["givenName"]
    assert link.exported["FirstName"].startswith("[Redact]:")
    assert entra["givenName"] not in link.exported["FirstName"]
    entry = ProvisioningLogEntry.objects.get(source_id=link.source_id)
    props = {p["displayName"]: p["newValue"] for p in entry.modified_properties}
    assert props.get("FirstName", "[Redact]") == "[Redact]"
    assert entra["givenName"] not in json.dumps(entry.modified_properties)
