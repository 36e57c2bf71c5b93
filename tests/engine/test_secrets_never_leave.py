"""Secrets and Redact()-ed values never reach the provisioning log, its downloads, the emails or task arguments."""

from __future__ import annotations

import io
import json
import logging
import zipfile

import pytest
from django.urls import reverse
from django_q.models import OrmQ, Schedule, Task

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


def test_secrets_and_redacted_values_stay_out_of_log_downloads_mail_and_tasks(
    configured_app, emu, smtp_server, admin_client, caplog, settings
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
