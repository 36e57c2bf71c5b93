"""Secrets, Redact()-ed values and API tokens never reach the provisioning log, its downloads, the emails, task
arguments, the REST API's answers, the audit log or the Python log."""

from __future__ import annotations

import io
import json
import logging
import zipfile

import pytest
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ, Schedule, Task

from api.models import ApiToken
from api.tokens import create_token
from console.models import AuditEntry
from mappings.models import AttributeMapping, MappingType
from provisioning.models import ProvisioningCycle, ProvisioningJob, ProvisioningLogEntry
from provisioning.scheduling import apply_schedule
from provisioning.tasks import run_cycle

pytestmark = pytest.mark.django_db(transaction=True)
REDACTED_VALUE = "HushHushAliasValue42"  # longer than Alias allows: Salesforce echoes it in its error message


@pytest.fixture(autouse=True)
def role_groups(transactional_db):
    from django.contrib.auth.models import Group

    from console.permissions import APPLICATION_ADMINISTRATOR, REPORTS_READER

    for name in (APPLICATION_ADMINISTRATOR, REPORTS_READER):
        Group.objects.get_or_create(name=name)


def rows_as_text(model) -> str:
    return json.dumps(list(model.objects.values()), default=str)


def api_answers(token: str, slug: str, job_id: str, user_id: str) -> str:
    """Every read of the API, a provision on demand and a few refusals, answers and headers together (the
    objectMapping apart)."""
    client = Client()
    auth = {"Authorization": f"Bearer {token}"}
    base = f"/api/v1.0/applications/{slug}"
    job = f"{base}/synchronization/jobs/{job_id}"
    on_demand = {"parameters": [{"subjects": [{"objectId": user_id, "objectTypeName": "User"}]}]}
    answers = [
        client.get("/api/v1.0/applications", headers=auth),
        client.get(base, headers=auth),
        client.get(job, headers=auth),
        client.get(f"{job}/schema/objectMapping", headers=auth),
        client.get(f"{base}/auditLogs/provisioning", {"$top": "500"}, headers=auth),
        client.get(f"{base}/auditLogs/provisioning", {"$filter": "provisioningStatusInfo/status eq 'failure'"},
                   headers=auth),
        client.post(f"{job}/provisionOnDemand", on_demand, content_type="application/json", headers=auth),
        client.post(f"{job}/restart", {"criteria": {"resetScope": "Full"}}, content_type="application/json",
                    headers=auth),
        client.get(f"{base}/auditLogs/provisioning", {"$filter": "bogus eq 1"}, headers=auth),
        client.get("/api/v1.0/applications", headers={"Authorization": f"Token {token}"}),  # another scheme
        client.get("/api/v1.0/applications", headers={"Authorization": f"Bearer {token}x"}),  # unknown
        client.get("/api/openapi.json"),
    ]  # fmt: skip
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 200, 200, 400, 400, 401, 401, 200]
    # The objectMapping is the configuration as typed (a Redact("...") literal included, as `mappings export` and
    # the mapping editor show it): it is checked for credentials and tokens only.
    mapping = answers.pop(3)
    text = "".join(a.content.decode() + repr(sorted(a.headers.items())) for a in answers)
    return text, mapping.content.decode() + repr(sorted(mapping.headers.items()))


def test_secrets_and_redacted_values_stay_out_of_log_downloads_mail_and_tasks(
    configured_app, emu, smtp_server, admin_client, admin_user, caplog, settings
):
    settings.CONSOLE_URL = "https://console.example.com"
    job = configured_app.job
    job.notification_email, job.notify_on_failure = "ops@example.com", True
    job.save()
    AttributeMapping.objects.filter(object_mapping=configured_app.user_mapping, target_attribute="Alias").update(
        mapping_type=MappingType.EXPRESSION, expression=f'Redact("{REDACTED_VALUE}")', source_attribute=""
    )
    secrets = [
        emu.info["salesforce"]["password"],
        emu.info["salesforce"]["security_token"],
        emu.info["entra"]["client_secret"],
        REDACTED_VALUE,
        REDACTED_VALUE[:8],
    ]

    with caplog.at_level(logging.DEBUG):
        cycle = run_cycle(job.pk)
        ProvisioningJob.objects.filter(pk=job.pk).update(enabled=True)
        apply_schedule(ProvisioningJob.objects.get(pk=job.pk))  # the schedule row and the queued first cycle
    cycle.refresh_from_db()
    assert cycle.failed, "every create fails: the Redact()-ed alias is too long for Salesforce"
    failure = ProvisioningLogEntry.objects.filter(cycle=cycle, error_reason__contains="STRING_TOO_LONG").first()
    assert failure is not None and "[Redact]" in failure.error_reason

    slug = configured_app.slug
    token = create_token(admin_user, name="leak test", scope="administer").raw
    secrets.append(token)
    with caplog.at_level(logging.DEBUG):
        answers, mapping_answer = api_answers(token, slug, job.job_id, failure.source_id)
    for secret in (*secrets[:3], token):
        assert secret not in mapping_answer
    assert "[Redact]" in answers  # the on-demand run failed on the alias again, and says so without the value
    json_download = b"".join(
        admin_client.get(reverse("provisioning_logs_download_json", args=[slug])).streaming_content
    )
    csv_zip = b"".join(admin_client.get(reverse("provisioning_logs_download_csv", args=[slug])).streaming_content)
    with zipfile.ZipFile(io.BytesIO(csv_zip)) as archive:
        csv_text = "".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist())
    assert smtp_server.messages, "the failure mails arrived"
    mails = "".join(m.part("text/plain") + m.part("text/html") + m.message["Subject"] for m in smtp_server.messages)
    pages = "".join(
        admin_client.get(reverse(name, args=[slug])).content.decode()
        for name in ("application_overview", "provisioning_logs")
    )
    detail = admin_client.get(reverse("provisioning_log_detail", args=[slug, failure.change_id])).content.decode()
    places = {
        "log entries": rows_as_text(ProvisioningLogEntry),
        "cycles": rows_as_text(ProvisioningCycle),
        "JSON download": json_download.decode(),
        "CSV download": csv_text,
        "emails": mails,
        "pages": pages + detail,
        "task arguments": rows_as_text(OrmQ) + rows_as_text(Schedule) + rows_as_text(Task),
        "API answers": answers,
        "audit log and tokens": rows_as_text(AuditEntry) + rows_as_text(ApiToken),
        "Python log": caplog.text,
    }
    assert all(places.values())
    assert Schedule.objects.exists() and Task.objects.exists(), "the schedule and the queued cycle were stored"
    for where, text in places.items():
        for secret in secrets:
            assert secret not in text, f"{secret!r} reached the {where}"


def test_a_truncated_echo_of_a_redacted_value_is_hidden_too():
    from mappings.expressions.values import Redacted
    from provisioning.engine.items import ItemError, WorkItem

    item = WorkItem(source_id="u1", desired={"Alias": Redacted("x" * 10 + "S3cretTail" * 5), "LastName": "Okafor"})
    item.fail(ItemError("STRING_TOO_LONG", f"Alias: data value too large: {('x' * 10 + 'S3cretTail' * 5)[:40]}"))
    assert item.error.reason == "Alias: data value too large: [Redact]"
    plain = WorkItem(source_id="u2", desired={"LastName": "Okafor"})
    plain.fail(ItemError("STRING_TOO_LONG", "LastName: data value too large: Okafor"))
    assert plain.error.reason.endswith("Okafor")
