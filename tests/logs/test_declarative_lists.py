"""The log lists are declarative: one declaration per filter drives the URL, the messages, the query, the inputs
and the "active filters" line; one column table serves the list, the detail page and the downloads."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from console.lists import TextFilter
from provisioning.logquery import LogFilters, filtered_entries
from tests.logs.conftest import make_cycle, make_entry


class WithErrorCode(LogFilters):
    error_code = TextFilter(label="Error code", query=lambda value: Q(error_code=value), limit=100)


def test_a_new_filter_is_one_declaration(job, cycle):
    make_entry(cycle, number=1, status="failure", error_code="SalesforceDuplicateUserName")
    make_entry(cycle, number=2, status="failure", error_code="SalesforceLicenseLimitExceeded")
    filters = WithErrorCode({"error_code": " SalesforceDuplicateUserName ", "status": "failure"})
    assert [e.error_code for e in filtered_entries(job, filters)] == ["SalesforceDuplicateUserName"]
    assert ("Error code", "SalesforceDuplicateUserName") in filters.active
    assert ("error_code", "SalesforceDuplicateUserName") in filters.query_items()
    rendered = {field.name: str(field) for field in filters.filter_fields()}
    assert 'value="SalesforceDuplicateUserName"' in rendered["error_code"]


def logs(client, application, **params):
    response = client.get(reverse("provisioning_logs", args=[application.slug]), params)
    assert response.status_code == 200
    return response


def test_the_page_names_the_filters_it_applies(reader_client, application, cycle):
    make_entry(cycle, status="failure")
    content = logs(reader_client, application, status="failure", date="7d", identity="user").content.decode()
    assert "Filtered by" in content
    for shown in (
        "<strong>Identity</strong>: user",
        "<strong>Date</strong>: Last 7 days",
        "<strong>Status</strong>: Failure",
    ):
        assert shown in content
    assert "Filtered by" not in logs(reader_client, application).content.decode()


def test_the_inputs_show_what_is_applied(reader_client, application, cycle):
    day = timezone.now().date()
    response = logs(
        reader_client,
        application,
        identity="  alice  ",
        status="nonsense",
        date="custom",
        start=day.isoformat(),
        end=(day - timedelta(days=2)).isoformat(),
    )
    content = response.content.decode()
    assert 'name="identity" value="alice"' in content
    assert '<option value="" selected>All</option>' in content.split('name="status"')[1]
    assert f'name="start" value="{(day - timedelta(days=2)).isoformat()}"' in content
    assert f'name="end" value="{day.isoformat()}"' in content
    assert "Unknown status &#x27;nonsense&#x27;; showing every status." in content
    assert "aria-invalid" not in content  # what the inputs hold is valid: the message says what was dropped
    # The downloads get the filters as applied.
    query = response.context["download_query"]
    assert query == f"identity=alice&date=custom&start={(day - timedelta(days=2)).isoformat()}&end={day.isoformat()}"


def test_days_are_read_only_for_a_custom_range_and_a_bad_one_is_named_once(reader_client, application, cycle):
    assert logs(reader_client, application, date="24h", start="garbage").context["filters"].messages == []
    bad = logs(reader_client, application, date="custom", start="2024-13-45", end="tomorrow")
    assert bad.context["filters"].messages == ["Dates are written YYYY-MM-DD."]


def test_the_cycle_cell_opens_the_log_of_that_cycle(reader_client, application, job, cycle):
    make_entry(cycle)
    make_entry(make_cycle(job), number=2)
    content = logs(reader_client, application, cols=["date", "cycle"]).content.decode()
    link = f'href="{reverse("provisioning_logs", args=[application.slug])}?cycle={cycle.cycle_id}"'
    assert link in content


def test_the_detail_summary_reads_the_column_table(reader_client, application, cycle):
    entry = make_entry(cycle, number=7, dry_run=True, action="create")
    url = reverse("provisioning_log_detail", args=[application.slug, entry.change_id])
    content = reader_client.get(url, {"tab": "summary"}).content.decode()
    for heading, value in (
        ("Salesforce username", entry.target_display_name),
        ("Salesforce user id", f"<code>{entry.target_id}</code>"),
        ("Cycle ID", f"<code>{cycle.cycle_id}</code>"),
        ("Job ID", f"<code>{cycle.job.job_id}</code>"),
        ("Duration (ms)", "47"),
    ):
        assert f"<dt>{heading}</dt><dd>" in content and value in content
    # The header shows the action with its dry-run mark, as the list does.
    assert '<span class="badge badge-green">Create</span> <span class="badge badge-grey">Dry run</span>' in content


def test_the_csv_keeps_entras_columns(reader_client, application, cycle):
    make_entry(cycle, escrow_attempt=2, next_attempt_at=timezone.now())
    response = reader_client.get(reverse("provisioning_logs_download_csv", args=[application.slug]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    headers = {
        name: next(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig")))) for name in archive.namelist()
    }
    assert headers == {
        "ProvisioningLogs.csv": [
            "Date (UTC)", "Id", "Change ID", "Cycle ID", "Job ID", "Action", "Status", "Source System",
            "Target System", "Source Identity ID", "Source Identity Name", "Source Identity UPN",
            "Target Identity ID", "Target Identity Name", "Error Code", "Reason", "Recommended Action",
            "Error Category", "Duration (ms)", "Dry Run", "Escrow Attempt", "Next Attempt (UTC)",
        ],
        "ProvisioningLogs_ProvisioningSteps.csv": [
            "Change ID", "Step", "Name", "Type", "Status", "Description", "Details",
        ],
        "ProvisioningLogs_ModifiedProperties.csv": ["Change ID", "Property", "Old Value", "New Value"],
    }  # fmt: skip


def test_the_audit_log_names_its_filters_and_reads_a_custom_range(reader_client, application, admin_user):
    from console.models import AuditActivity, AuditEntry, record_audit

    old = record_audit(AuditActivity.START, actor=admin_user, application=application)
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    day = (timezone.now() - timedelta(days=3)).date().isoformat()
    response = reader_client.get(
        reverse("audit_logs", args=[application.slug]),
        {"date": "custom", "start": day, "end": day, "actor": admin_user.username.upper()},
    )
    assert [e.activity for e in response.context["page"].object_list] == [AuditActivity.START]
    content = response.content.decode()
    assert (
        f"<strong>Date</strong>: {day} to {day}" in content
        and f"<strong>Initiated by</strong>: {admin_user.username.upper()}" in content
    )
