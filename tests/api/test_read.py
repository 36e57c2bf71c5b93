"""Applications and the job in Graph's shapes, read with a reader's token; the OpenAPI description."""

from __future__ import annotations

import json
from datetime import timedelta

from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from openapi_spec_validator import validate

from provisioning.models import ProvisioningCycle, ProvisioningJob


def _cycle(job, status, *, minutes_ago, **counters):
    finished = timezone.now() - timedelta(minutes=minutes_ago)
    return ProvisioningCycle.objects.create(
        job=job, kind="incremental", status=status, started_at=finished - timedelta(seconds=30),
        finished_at=finished, **counters,
    )  # fmt: skip


def test_applications_are_listed_and_found_by_slug_or_object_id(application, api_as, reader_token):
    client = api_as(reader_token)
    listed = json.loads(client.get("/api/v1.0/applications").content)["value"]
    assert listed == [
        {
            "id": str(application.object_id),
            "slug": application.slug,
            "displayName": "UAT sandbox",
            "description": "",
            "provisioningMode": "manual",
            "synchronizationJobId": application.job.job_id,
        }
    ]
    by_id = json.loads(client.get(f"/api/v1.0/applications/{application.object_id}").content)
    assert by_id == listed[0]


def test_the_job_shows_status_last_cycles_and_quarantine_as_graph_does(application, api_as, reader_token):
    job = application.job
    good = _cycle(job, "succeeded", minutes_ago=90, created=3, objects_done=5)
    _cycle(job, "completed_with_errors", minutes_ago=60, updated=1, failed=2, objects_done=4)
    _cycle(job, "failed", minutes_ago=30, error_code="SalesforceInvalidCredentials", error_message="Sign-in refused")
    last = _cycle(job, "crashed", minutes_ago=10, error_code="Crashed")
    now = timezone.now()
    ProvisioningJob.objects.filter(pk=job.pk).update(
        quarantine_reason="EncounteredQuarantineException", quarantine_began=now, quarantine_series_began=now,
        quarantine_series_count=2, quarantine_next_attempt=now + timedelta(hours=6), quarantine_error="Bad password",
    )  # fmt: skip
    url = f"/api/v1.0/applications/{application.slug}/synchronization/jobs/{job.job_id}"
    shown = json.loads(api_as(reader_token).get(url).content)
    assert shown["id"] == job.job_id and shown["schedule"] == {"expiration": None, "interval": "PT40M",
                                                               "state": "Disabled"}  # fmt: skip
    status = shown["status"]
    assert status["code"] == "NotConfigured"  # Manual mode, as the Overview says
    assert status["countSuccessiveCompleteFailures"] == 2
    assert status["lastExecution"]["activityIdentifier"] == last.cycle_id
    assert status["lastExecution"]["state"] == "Failed"
    assert status["lastSuccessfulExecution"]["activityIdentifier"] == good.cycle_id
    assert status["lastSuccessfulExecutionWithExports"]["countExported"] == 3
    quarantine = status["quarantine"]
    assert quarantine["reason"] == "EncounteredQuarantineException" and quarantine["seriesCount"] == 2
    assert quarantine["error"]["message"] == "Bad password"
    listed = json.loads(api_as(reader_token).get(url.rsplit("/", 1)[0]).content)["value"]
    assert listed == [shown]


def test_the_openapi_description_is_valid_and_describes_every_route(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    validate(schema)
    described = {path for path in schema["paths"]}
    routes = set()
    resolver = get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "api":
            for pattern in entry.url_patterns:
                assert isinstance(pattern, URLPattern)
                if pattern.name in ("openapi-json", "api-root", "unknown"):
                    continue
                route = "/api/" + str(pattern.pattern).replace("<application>", "{application}")
                routes.add(route.replace("<job_id>", "{job_id}"))
    assert routes and routes == described
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            assert operation.get("security") == [{"TokenAuth": []}], (method, path)
            codes = set(operation["responses"])
            assert {"401", "403", "404"} <= codes and codes & {"200", "204"}, (method, path)
