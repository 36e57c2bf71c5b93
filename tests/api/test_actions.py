"""The API's actions against the real emulators: start (a cycle runs), pause, restart with Graph's criteria, and
provision on demand with Graph's parameters; each as the Overview's button does it, audited the same way."""

from __future__ import annotations

import json
import uuid

import pytest
from django_q.models import Schedule

from console.models import AuditActivity, AuditEntry
from provisioning.models import CycleKind, CycleTrigger, LogAction, ProvisioningJob, ProvisioningLogEntry
from provisioning.scheduling import schedule_name
from tests.operations.conftest import plain_assigned_users, sf_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("role_groups")]


@pytest.fixture
def app(configured_app):
    """The application pointed at the emulators (tests/fixtures/emulators.py)."""
    return configured_app


def job_url(app, action: str = "") -> str:
    base = f"/api/v1.0/applications/{app.slug}/synchronization/jobs/{app.job.job_id}"
    return f"{base}/{action}" if action else base


def test_start_runs_a_cycle_and_pause_stops_the_schedule(app, api_as, admin_token):
    client = api_as(admin_token)
    response = client.post(job_url(app, "start"))
    assert response.status_code == 204, response.content
    job = ProvisioningJob.objects.get(pk=app.job.pk)
    assert job.enabled and Schedule.objects.filter(name=schedule_name(job)).exists()
    cycle = job.cycles.get()  # queued once the call committed; the test settings run tasks at once
    assert cycle.status == "completed_with_errors" and cycle.created > 0  # the seeded awkward users fail
    start = AuditEntry.objects.get(activity=AuditActivity.START)
    assert start.actor == admin_token.token.user and "REST API" in start.detail
    shown = json.loads(client.get(job_url(app)).content)
    assert shown["status"]["code"] == "Active" and shown["schedule"]["state"] == "Active"
    assert shown["status"]["lastExecution"]["activityIdentifier"] == cycle.cycle_id
    assert shown["status"]["lastExecution"]["state"] == "EntryLevelErrors"
    assert shown["status"]["lastExecution"]["countEscrowed"] == cycle.failed > 0
    assert shown["status"]["synchronizedEntryCountByType"] == [{"key": "User", "value": job.links.count()}]

    assert client.post(job_url(app, "pause")).status_code == 204
    job.refresh_from_db()
    assert not job.enabled and not Schedule.objects.filter(name=schedule_name(job)).exists()
    assert AuditEntry.objects.filter(activity=AuditActivity.STOP).count() == 1
    shown = json.loads(client.get(job_url(app)).content)
    assert shown["status"]["code"] == "Paused" and shown["schedule"]["state"] == "Paused"


def test_restart_takes_graph_criteria_and_refuses_what_the_overview_does_not_do(app, api_as, admin_token):
    client = api_as(admin_token)
    ProvisioningJob.objects.filter(pk=app.job.pk).update(watermark="delta-link", needs_initial_cycle=False,
                                                          quarantine_reason="TooManyDeletes")  # fmt: skip
    for scope in ("Full", "ConnectorDataStore", "Watermark", "ForceDeletes", "Watermark,Escrows,Bogus"):
        response = client.post(job_url(app, "restart"), {"criteria": {"resetScope": scope}})
        body = json.loads(response.content)
        assert response.status_code == 400 and body["error"]["code"] == "BadRequest"
        assert "Watermark, Escrows, QuarantineState" in body["error"]["message"]
    assert ProvisioningJob.objects.get(pk=app.job.pk).watermark == "delta-link"  # nothing was done
    response = client.post(job_url(app, "restart"), {"criteria": {"resetScope": "QuarantineState, Watermark,Escrows"}})
    assert response.status_code == 204, response.content
    job = ProvisioningJob.objects.get(pk=app.job.pk)
    assert not job.is_quarantined
    cycle = job.cycles.get()
    assert cycle.kind == CycleKind.INITIAL and cycle.trigger == CycleTrigger.RESTART
    assert client.post(job_url(app, "restart")).status_code == 204  # no body: Graph's default criteria
    assert AuditEntry.objects.filter(activity=AuditActivity.RESTART).count() == 2


def test_provision_on_demand_takes_graph_parameters_and_answers_the_steps(app, emu, api_as, admin_token):
    client = api_as(admin_token)
    user = plain_assigned_users(emu)[0]
    body = {"parameters": [{"ruleId": "ignored", "subjects": [{"objectId": user["id"], "objectTypeName": "User"}]}]}
    response = client.post(job_url(app, "provisionOnDemand"), body)
    assert response.status_code == 200, response.content
    answer = json.loads(response.content)
    assert answer["key"] == "provisioningObjectSummary"
    value = json.loads(answer["value"])
    assert [step["name"] for step in value["provisioningSteps"]] == [
        "Import user", "Determine if user is in scope", "Match user between source and target", "Perform action",
    ]  # fmt: skip
    assert value["provisioningStatusInfo"] == {"status": "success", "errorInformation": None}
    assert value["provisioningAction"] == LogAction.CREATE
    created = sf_user(emu, user["userPrincipalName"])
    assert created is not None and value["targetIdentity"]["id"] == created["Id"]
    entry = ProvisioningLogEntry.objects.get(change_id=value["changeId"])
    assert entry.source_id == user["id"] and entry.cycle.cycle_id == value["cycleId"]
    assert {"displayName": "Username", "oldValue": "", "newValue": f"{user['userPrincipalName']}.uat"} in [
        {key: prop[key] for key in ("displayName", "oldValue", "newValue")} for prop in value["modifiedProperties"]
    ]


@pytest.mark.parametrize(
    ("subjects", "says"),
    [
        ([], "exactly one subject"),
        ([{"objectId": "not-a-guid", "objectTypeName": "User"}], "not an Entra object id"),
        ([{"objectId": str(uuid.uuid4()), "objectTypeName": "Group"}], "objectTypeName 'Group' is not supported"),
    ],
)
def test_provision_on_demand_refuses_what_it_cannot_do_saying_why(app, api_as, admin_token, subjects, says):
    response = api_as(admin_token).post(job_url(app, "provisionOnDemand"), {"parameters": [{"subjects": subjects}]})
    assert response.status_code == 400 and says in json.loads(response.content)["error"]["message"]
    assert not ProvisioningLogEntry.objects.exists()


def test_provision_on_demand_of_an_unknown_user_is_a_404(app, api_as, admin_token):
    subject = {"objectId": str(uuid.uuid4()), "objectTypeName": "User"}
    response = api_as(admin_token).post(job_url(app, "provisionOnDemand"), {"parameters": [{"subjects": [subject]}]})
    body = json.loads(response.content)
    assert response.status_code == 404 and body["error"]["code"] == "Request_ResourceNotFound"
    assert subject["objectId"] in body["error"]["message"]
