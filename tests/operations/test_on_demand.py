"""Provision on demand against the emulators: Entra's steps with their details, the log entry, the time taken."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from connections.clients.salesforce import SalesforceClient
from mappings.models import MappingType
from provisioning.models import (
    CycleKind,
    CycleStatus,
    LogAction,
    ProvisionedLink,
    ProvisioningJob,
    ProvisioningLogEntry,
)
from provisioning.operations.api_limit import schedule_name
from provisioning.operations.on_demand import provision_on_demand, try_again_at
from tests.operations.conftest import plain_assigned_users, sf_user

pytestmark = pytest.mark.django_db(transaction=True)
STEPS = ["Import user", "Determine if user is in scope", "Match user between source and target", "Perform action"]


def test_provision_on_demand_creates_the_user_showing_every_step_within_two_seconds(configured_app, emu):
    user = plain_assigned_users(emu)[0]
    started = time.monotonic()
    result = provision_on_demand(configured_app, user["userPrincipalName"])
    elapsed = time.monotonic() - started
    assert elapsed <= 2.0, f"provision on demand took {elapsed:.2f} s"
    print(f"\nprovision on demand (create): {elapsed * 1000:.0f} ms wall, {result.duration_ms} ms measured")

    assert [step.name for step in result.steps] == STEPS
    assert result.ok and all(step.status == "success" for step in result.steps)
    imported, scope, match, action = result.steps
    assert ("userPrincipalName", user["userPrincipalName"]) in imported.details
    assert ("Active in source system", "yes") in scope.details
    assert ("Assigned to application", "yes") in scope.details
    assert dict(scope.details)["User has required role"]
    assert match.details[0][0].startswith("Matching attribute 1: ")
    assert "No matching user" in match.description
    assert "Salesforce user" not in dict(match.details)
    created = sf_user(emu, user["userPrincipalName"])
    assert created is not None and created["IsActive"] is True
    assert ("Action", "Create") in action.details
    exported = {p["displayName"]: p["newValue"] for p in action.properties}
    assert exported["Username"] == f"{user['userPrincipalName']}.uat"
    assert exported["Email"] == f"{user['mail']}.uat"

    cycle = result.cycle
    cycle.refresh_from_db()
    assert cycle.kind == CycleKind.ON_DEMAND and cycle.status == CycleStatus.SUCCEEDED and cycle.created == 1
    entry = ProvisioningLogEntry.objects.get(cycle=cycle)
    assert entry.action == LogAction.CREATE and entry.target_id == created["Id"] == result.entry.target_id
    assert ProvisionedLink.objects.get(job=configured_app.job, source_id=user["id"]).target_id == created["Id"]


def test_provision_on_demand_stays_within_two_seconds_at_30_ms_per_request(configured_app, emu):
    """Network latency as between a console and the cloud: the step count, not the data, sets the time."""
    user = plain_assigned_users(emu)[0]
    emu.control.set_latency(30)
    emu.control.reset_counters()
    started = time.monotonic()
    result = provision_on_demand(configured_app, user["mail"])
    elapsed = time.monotonic() - started
    calls = emu.control.counters()["totals"]
    print(f"\nprovision on demand at 30 ms latency: {elapsed * 1000:.0f} ms, calls {calls}")
    assert result.ok and [step.name for step in result.steps] == STEPS
    assert elapsed <= 2.0, f"provision on demand took {elapsed:.2f} s at 30 ms latency"


def test_a_second_run_matches_the_linked_user_and_changes_nothing_but_still_logs(configured_app, emu):
    user = plain_assigned_users(emu)[0]
    provision_on_demand(configured_app, user["userPrincipalName"])
    writes = emu.control.counters()["writes"]["salesforce"]
    started = time.monotonic()
    result = provision_on_demand(configured_app, user["id"])
    print(f"\nprovision on demand (unchanged): {(time.monotonic() - started) * 1000:.0f} ms")
    assert emu.control.counters()["writes"]["salesforce"] == writes
    match, action = result.steps[2], result.steps[3]
    assert "Linked to the Salesforce user" in match.description
    assert dict(match.details)["Salesforce user"].startswith(result.entry.target_id)
    assert action.status == "skipped" and ("Action", "None (already up to date)") in action.details
    assert ProvisioningLogEntry.objects.filter(cycle=result.cycle).count() == 1


def test_an_unassigned_user_is_shown_out_of_scope_and_not_created(configured_app, emu):
    user = plain_assigned_users(emu)[0]
    emu.control.unassign(user["id"])
    result = provision_on_demand(configured_app, user["userPrincipalName"])
    scope = result.steps[1]
    assert scope.status == "skipped" and ("Assigned to application", "no") in scope.details
    assert result.steps[3].status == "skipped"
    assert sf_user(emu, user["userPrincipalName"]) is None


def test_an_edited_user_is_updated_with_only_the_changed_attribute(configured_app, emu):
    user = plain_assigned_users(emu)[0]
    provision_on_demand(configured_app, user["userPrincipalName"])
    emu.control.update_entra_user(user["id"], givenName="Renamed")
    result = provision_on_demand(configured_app, user["userPrincipalName"])
    action = result.steps[3]
    assert ("Action", "Update") in action.details
    assert [(p["displayName"], p["oldValue"], p["newValue"]) for p in action.properties] == [
        ("FirstName", user["givenName"], "Renamed")
    ]
    assert sf_user(emu, user["userPrincipalName"])["FirstName"] == "Renamed"


def test_redacted_attributes_are_shown_as_redact(configured_app, emu):
    mapping = configured_app.user_mapping
    row = mapping.attributes.get(target_attribute="FirstName")
    row.mapping_type, row.source_attribute, row.expression = MappingType.EXPRESSION, "", "Redact([givenName])"
    row.save()
    mapping.version += 1
    mapping.save()
    user = plain_assigned_users(emu)[0]
    result = provision_on_demand(configured_app, user["userPrincipalName"])
    exported = {p["displayName"]: p["newValue"] for p in result.steps[3].properties}
    assert exported["FirstName"] == "[Redact]"
    assert user["givenName"] not in str(result.entry.modified_properties)
    assert sf_user(emu, user["userPrincipalName"])["FirstName"] == user["givenName"]


def test_bad_salesforce_credentials_show_the_failed_test_connection_step(configured_app, emu):
    emu.control.reject_logins("INVALID_LOGIN")
    user = plain_assigned_users(emu)[0]
    result = provision_on_demand(configured_app, user["userPrincipalName"])
    assert [step.name for step in result.steps] == ["Test connection"]
    step = result.steps[0]
    details = dict(step.details)
    assert step.status == "failure" and details["Error code"] == "INVALID_LOGIN"
    assert details["Failing request"].startswith("POST https://")
    assert emu.info["salesforce"]["password"] not in str(step.details)
    result.cycle.refresh_from_db()
    assert result.cycle.status == CycleStatus.FAILED


def test_a_search_matching_several_users_offers_them_to_choose(admin_client, configured_app, emu):
    for letter in "AB":
        made = emu.control.create_entra_user(
            displayName=f"Zed Quill {letter}",
            givenName="Zed",
            surname=f"Quill {letter}",
            userPrincipalName=f"zed.quill.{letter.lower()}@contoso.example",
            mail=f"zed.quill.{letter.lower()}@contoso.example",
        )
        emu.control.assign(made["id"])
    result = provision_on_demand(configured_app, "Zed Qu")
    assert not result.steps and result.cycle is None and "choose one" in result.message
    assert sorted(c["displayName"] for c in result.candidates) == ["Zed Quill A", "Zed Quill B"]

    url = reverse("provision_on_demand", args=[configured_app.slug])
    page = admin_client.post(url, {"q": "Zed Qu"}).content.decode()
    assert "Choose a user" in page and "Provision Zed Quill B" in page
    chosen = next(c for c in result.candidates if c["displayName"] == "Zed Quill B")
    content = admin_client.post(url, {"q": "Zed Qu", "user_id": chosen["id"]}).content.decode()
    assert "Perform action" in content
    assert sf_user(emu, "zed.quill.b@contoso.example") is not None
    assert sf_user(emu, "zed.quill.a@contoso.example") is None


def test_no_match_says_so(configured_app, emu):
    result = provision_on_demand(configured_app, "nobody-by-this-name-zzz")
    assert not result.steps and not result.candidates and "No user matches" in result.message


def test_page_shows_steps_with_view_details_for_administrators(admin_client, configured_app, emu):
    user = plain_assigned_users(emu)[0]
    url = reverse("provision_on_demand", args=[configured_app.slug])
    page = admin_client.get(url).content.decode()
    assert 'name="q"' in page
    content = admin_client.post(url, {"q": user["userPrincipalName"]}).content.decode()
    for name in STEPS:
        assert f"<strong>{name}</strong>" in content
    assert content.count("<summary>View details</summary>") == 4
    assert f"{user['userPrincipalName']}.uat" in content
    partial = admin_client.post(url, {"q": user["userPrincipalName"]}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Perform action" in partial


def test_readers_see_the_page_but_cannot_provision(reader_client, configured_app, emu):
    user = plain_assigned_users(emu)[0]
    url = reverse("provision_on_demand", args=[configured_app.slug])
    page = reader_client.get(url).content.decode()
    assert 'name="q"' not in page and "Only an Application Administrator" in page
    assert reader_client.post(url, {"q": user["userPrincipalName"]}).status_code == 403
    assert sf_user(emu, user["userPrincipalName"]) is None


def test_command_prints_the_steps_and_exits_non_zero_on_failure(configured_app, emu, capsys):
    user = plain_assigned_users(emu)[0]
    call_command("provisioning", "on-demand", configured_app.slug, user["userPrincipalName"])
    out = capsys.readouterr().out
    for number, name in enumerate(STEPS, start=1):
        assert f"{number}. {name}: SUCCESS" in out
    assert "Username:" in out and f"{user['userPrincipalName']}.uat" in out
    emu.control.reject_logins("INVALID_LOGIN")
    with pytest.raises(CommandError):
        call_command("provisioning", "on-demand", configured_app.slug, user["userPrincipalName"])
    assert "1. Test connection: FAILURE" in capsys.readouterr().out


def test_an_entra_credential_failure_shows_the_failed_test_connection_step(configured_app, emu):
    entra = configured_app.entra
    entra.set_secret("client_secret", "not-the-secret")
    entra.save()
    result = provision_on_demand(configured_app, "anyone")
    [step] = result.steps
    details = dict(step.details)
    assert step.name == "Test connection" and step.status == "failure"
    assert details["System"] == "Microsoft Entra ID" and details["Error code"].startswith("AADSTS")
    assert "not-the-secret" not in str(step.details)


def test_the_daily_api_limit_fails_provision_on_demand_saying_when_to_try_again(configured_app, emu):
    user = plain_assigned_users(emu)[0]
    emu.control.request_limit_exceeded(100)
    client = SalesforceClient(configured_app.salesforce, max_retries=0)  # no back-off: the test stays fast
    result = provision_on_demand(configured_app, user["userPrincipalName"], salesforce_client=client)
    step = result.steps[-1]
    assert step.name == "Perform action" and step.status == "failure"
    assert dict(step.details)["Error code"] == "REQUEST_LIMIT_EXCEEDED"
    assert not result.ok
    when = f"{try_again_at():%Y-%m-%d %H:%M}"
    assert result.message.startswith("Salesforce's daily API limit is reached") and when in result.message
    result.cycle.refresh_from_db()
    # Nothing would resume a paused on-demand cycle: it fails, the job is neither paused nor quarantined.
    assert result.cycle.status == CycleStatus.FAILED and result.cycle.error_code == "REQUEST_LIMIT_EXCEEDED"
    assert "try again after" in result.cycle.error_message
    job = ProvisioningJob.objects.get(pk=configured_app.job.pk)
    assert job.api_limit_paused_at is None and not Schedule.objects.filter(name=schedule_name(job.pk)).exists()


def test_the_next_hour_is_when_to_try_again():
    moment = datetime(2026, 3, 1, 9, 59, 59, tzinfo=UTC)
    assert try_again_at(moment) == timezone.localtime(datetime(2026, 3, 1, 10, 0, tzinfo=UTC))


def test_each_scoping_clause_is_shown_with_its_outcome(configured_app, emu):
    from mappings.models import ScopingClause, ScopingFilter

    inside, outside = plain_assigned_users(emu)[:2]
    scoping = ScopingFilter.objects.create(object_mapping=configured_app.user_mapping, title="Chosen")
    ScopingClause.objects.create(
        scoping_filter=scoping, attribute="surname", operator="EQUALS", value=inside["surname"]
    )

    passed = provision_on_demand(configured_app, inside["userPrincipalName"]).steps[1]
    clause = f"Scoping filter 'Chosen' surname EQUALS {inside['surname']}"
    assert passed.status == "success" and (clause, "passed") in passed.details

    failed = provision_on_demand(configured_app, outside["userPrincipalName"])
    assert failed.steps[1].status == "skipped" and (clause, "failed") in failed.steps[1].details
    assert sf_user(emu, outside["userPrincipalName"]) is None


def test_one_users_assignments_are_read_alone_and_equal_the_full_read(configured_app, emu):
    """Provision on demand reads the user's own assignments (a few calls at any tenant size); they must be the
    roles a cycle's full read gives, nested groups and Default Access included, and nothing for the unassigned."""
    from connections.clients.graph import GraphClient
    from mappings.directory.assignments import AssignmentReader

    state = emu.entra_app.state
    outer, inner = next(
        (g, m)
        for g, v in state.groups.items()
        for m in v["members"]
        if m in state.groups and state.groups[m]["members"]
    )
    emu.control.assign(outer, "Read Only")  # reaches the inner group's users through nesting only
    reader = AssignmentReader(GraphClient(configured_app.entra))
    everyone = reader.roles_by_user()
    nested_only = [u for u in state.groups[inner]["members"] if u in state.users]
    assert nested_only, (outer, inner)
    assert all("Read Only" in everyone[u] for u in nested_only)
    unassigned = [
        emu.control.create_entra_user(
            userPrincipalName="not.assigned@contoso.onmicrosoft.com", displayName="Not Assigned"
        )["id"]
    ]
    unassigned += [u for u in state.users if u not in everyone][:3]
    assert any(roles == () for roles in everyone.values())

    emu.control.reset_counters()
    for user_id in [*everyone, *unassigned]:
        assert reader.roles_of(user_id) == everyone.get(user_id)
    per_user = emu.control.counters()["totals"]["entra"] / (len(everyone) + len(unassigned))
    assert per_user <= 4, f"{per_user:.1f} Graph calls per user"


def test_an_unexpected_error_fails_the_step_and_records_a_crashed_cycle_instead_of_an_error_page(
    admin_client, configured_app, emu, monkeypatch
):
    from provisioning.engine.cycle import CycleRunner

    def broken(self, raw_users, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(CycleRunner, "provision_users", broken)
    user = plain_assigned_users(emu)[0]
    response = admin_client.post(
        reverse("provision_on_demand", args=[configured_app.slug]), {"q": user["userPrincipalName"]}
    )
    assert response.status_code == 200
    result = response.context["result"]
    assert not result.ok and result.steps[-1].status == "failure"
    assert "unexpected error (RuntimeError)" in response.content.decode()
    result.cycle.refresh_from_db()
    assert result.cycle.status == CycleStatus.CRASHED and result.cycle.error_code == "RuntimeError"
