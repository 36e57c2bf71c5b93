"""Downloads parse back into the same entries: JSON in Graph's shape, and Entra's three CSV files in one zip."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from provisioning.models import ProvisioningLogEntry
from tests.logs.conftest import make_entry


@pytest.fixture
def entries(cycle):
    rows = [make_entry(cycle, number=n, minutes_ago=n) for n in range(7)]
    rows.append(
        make_entry(
            cycle,
            number=99,
            minutes_ago=100,
            status="failure",
            action="create",
            upn='zoë,"quoted"@contoso.com',
            error_code="SalesforceDuplicateUserName",
            error_reason="Username already exists, in some org",
            error_recommendation="Change the suffix",
            modified_properties=[
                {"displayName": "Username", "oldValue": "", "newValue": "zoë@contoso.com.uat"},
                {"displayName": "Alias", "oldValue": None, "newValue": "zoe"},
            ],
        )
    )
    return rows


def body(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def test_json_download_parses_back_into_the_entries(reader_client, application, cycle, entries):
    response = reader_client.get(reverse("provisioning_logs_download_json", args=[application.slug]))
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="ProvisioningLogs-')
    raw = body(response)
    data = json.loads(raw)
    assert raw == json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()  # minified
    expected = ProvisioningLogEntry.objects.order_by("-activity_at", "-id")
    assert [d["changeId"] for d in data] == [e.change_id for e in expected]
    failed = next(d for d in data if d["provisioningStatusInfo"]["status"] == "failure")
    entry = entries[-1]
    assert failed["sourceIdentity"] == {
        "id": entry.source_id,
        "displayName": entry.source_display_name,
        "identityType": "User",
        "details": {"UserPrincipalName": entry.source_upn},
    }
    assert failed["provisioningAction"] == "create"
    assert failed["cycleId"] == cycle.cycle_id and failed["jobId"] == application.job.job_id
    assert failed["provisioningStatusInfo"]["errorInformation"]["errorCode"] == "SalesforceDuplicateUserName"
    assert failed["modifiedProperties"][0] == {
        "displayName": "Username",
        "oldValue": "",
        "newValue": "zoë@contoso.com.uat",
    }
    assert [s["provisioningStepType"] for s in failed["provisioningSteps"]] == ["import", "export"]
    assert failed["activityDateTime"].endswith("Z")


def test_json_download_honours_the_filters(reader_client, application, entries):
    response = reader_client.get(
        reverse("provisioning_logs_download_json", args=[application.slug]), {"status": "failure"}
    )
    data = json.loads(body(response))
    assert [d["changeId"] for d in data] == [entries[-1].change_id]


def test_empty_json_download_is_an_empty_array(reader_client, application):
    response = reader_client.get(reverse("provisioning_logs_download_json", args=[application.slug]))
    assert json.loads(body(response)) == []


def read_csv(archive: zipfile.ZipFile, name: str) -> list[dict]:
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_zip_holds_three_files_joined_by_change_id(reader_client, application, cycle, entries):
    response = reader_client.get(reverse("provisioning_logs_download_csv", args=[application.slug]))
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert archive.testzip() is None
    assert archive.namelist() == [
        "ProvisioningLogs.csv",
        "ProvisioningLogs_ProvisioningSteps.csv",
        "ProvisioningLogs_ModifiedProperties.csv",
    ]
    logs = read_csv(archive, "ProvisioningLogs.csv")
    steps = read_csv(archive, "ProvisioningLogs_ProvisioningSteps.csv")
    props = read_csv(archive, "ProvisioningLogs_ModifiedProperties.csv")
    expected = list(ProvisioningLogEntry.objects.order_by("-activity_at", "-id"))
    assert [row["Change ID"] for row in logs] == [e.change_id for e in expected]
    by_change = {row["Change ID"]: row for row in logs}
    entry = entries[-1]
    row = by_change[entry.change_id]
    assert row["Source Identity UPN"] == entry.source_upn  # commas and quotes survive
    assert row["Status"] == "Failure" and row["Error Code"] == "SalesforceDuplicateUserName"
    assert row["Cycle ID"] == cycle.cycle_id
    assert len(steps) == 2 * len(expected)
    assert {s["Change ID"] for s in steps} == set(by_change)
    assert [p for p in props if p["Change ID"] == entry.change_id] == [
        {"Change ID": entry.change_id, "Property": "Username", "Old Value": "", "New Value": "zoë@contoso.com.uat"},
        {"Change ID": entry.change_id, "Property": "Alias", "Old Value": "", "New Value": "zoe"},
    ]
    assert json.loads(steps[0]["Details"]) == expected[0].steps[0]["details"]


def test_csv_zip_honours_the_filters(reader_client, application, entries):
    response = reader_client.get(
        reverse("provisioning_logs_download_csv", args=[application.slug]), {"identity": "zoë"}
    )
    archive = zipfile.ZipFile(io.BytesIO(body(response)))
    assert [r["Change ID"] for r in read_csv(archive, "ProvisioningLogs.csv")] == [entries[-1].change_id]


def test_download_is_streamed_in_pieces(reader_client, application, cycle):
    for n in range(1200):
        make_entry(cycle, number=n)
    response = reader_client.get(reverse("provisioning_logs_download_json", args=[application.slug]))
    pieces = list(response.streaming_content)
    assert len(pieces) >= 3
    assert len(json.loads(b"".join(pieces))) == 1200


def test_json_download_keeps_percent_signs_and_braces_of_an_application_name(reader_client, application, cycle):
    application.name = "Sales 100% {UAT} %s"
    application.save()
    make_entry(cycle, number=1)
    response = reader_client.get(reverse("provisioning_logs_download_json", args=[application.slug]))
    (summary,) = json.loads(body(response))
    assert summary["servicePrincipal"]["displayName"] == "Sales 100% {UAT} %s"
    assert summary["targetSystem"]["details"]["ServicePrincipalDisplayName"] == "Sales 100% {UAT} %s"
