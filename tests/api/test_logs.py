"""The provisioning log as Graph's provisioningObjectSummary: $filter on the page's fields through the page's own
filters, $top and a signed $skiptoken over the keyset, and a Graph error naming what is supported otherwise."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from api.odata import UnsupportedFilter, filter_params
from provisioning.logexport import stream_json
from provisioning.logquery import filtered_entries, parse_filters
from tests.logs.conftest import make_cycle, make_entry


def url(application) -> str:
    return f"/api/v1.0/applications/{application.slug}/auditLogs/provisioning"


@pytest.fixture
def log(application):
    job = application.job
    first = make_cycle(job)
    second = make_cycle(job)
    entries = [make_entry(first, number=n, minutes_ago=100 - n) for n in range(7)]
    entries.append(make_entry(second, number=7, status="failure", action="create", error_code="DuplicateUserName",
                              error_reason="taken", upn="ann.lee@contoso.com", minutes_ago=1))  # fmt: skip
    entries.append(make_entry(second, number=8, minutes_ago=60 * 24 * 3, upn="old@contoso.com"))
    return {"first": first, "second": second, "entries": entries}


def get(client, application, **params):
    response = client.client.get(url(application), params, headers=client.headers)
    return response, json.loads(response.content)


def test_entries_are_graph_summaries_as_the_json_download_writes_them(application, log, api_as, reader_token):
    response, body = get(api_as(reader_token), application)
    assert response.status_code == 200 and "@odata.nextLink" not in body
    download = json.loads(b"".join(stream_json(filtered_entries(application.job, parse_filters({})), application.job)))
    assert body["value"] == download
    failure = body["value"][0]
    assert failure["provisioningStatusInfo"]["status"] == "failure"
    assert failure["provisioningStatusInfo"]["errorInformation"]["errorCode"] == "DuplicateUserName"
    assert failure["cycleId"] == log["second"].cycle_id and failure["jobId"] == application.job.job_id


@pytest.mark.parametrize(
    ("odata", "expected"),
    [
        ("provisioningStatusInfo/status eq 'failure'", {7}),
        ("provisioningAction eq 'create'", {7}),
        ("provisioningAction eq 'update' and startswith(sourceIdentity/displayName,'User 1')", {1}),
        ("startswith(sourceIdentity/displayName,'ann.')", {7}),  # as the page's Identity box: the UPN too
        ("targetIdentity/id eq '005000000000003AAA'", {3}),
    ],
)
def test_filter_selects_what_the_page_selects(application, log, api_as, reader_token, odata, expected):
    response, body = get(api_as(reader_token), application, **{"$filter": odata})
    assert response.status_code == 200, body
    numbers = {log["entries"].index(e) for e in log["entries"] if e.change_id in {v["changeId"] for v in body["value"]}}
    assert numbers == expected


def test_filter_by_ids_and_days(application, log, api_as, reader_token):
    client = api_as(reader_token)
    entry = log["entries"][2]
    for odata in (f"sourceIdentity/id eq '{entry.source_id}'", f"changeId eq '{entry.change_id}'"):
        assert [v["changeId"] for v in get(client, application, **{"$filter": odata})[1]["value"]] == [entry.change_id]
    by_cycle = get(client, application, **{"$filter": f"cycleId eq '{log['second'].cycle_id}'"})[1]["value"]
    assert len(by_cycle) == 2
    today = timezone.now().date()
    recent = get(client, application, **{"$filter": f"activityDateTime ge {today - timedelta(days=1)}"})[1]["value"]
    assert "old@contoso.com" not in {v["sourceIdentity"]["details"].get("UserPrincipalName") for v in recent}
    older = get(client, application, **{"$filter": f"activityDateTime lt {today - timedelta(days=1)}"})[1]["value"]
    assert [v["sourceIdentity"]["details"]["UserPrincipalName"] for v in older] == ["old@contoso.com"]


def test_top_and_skiptoken_page_through_every_entry_once(application, log, api_as, reader_token):
    client = api_as(reader_token)
    seen: list[str] = []
    params = {"$top": "4", "$filter": "provisioningAction eq 'update'"}
    while True:
        response, body = get(client, application, **params)
        assert response.status_code == 200, body
        seen += [v["changeId"] for v in body["value"]]
        if "@odata.nextLink" not in body:
            break
        link = urlsplit(body["@odata.nextLink"])
        assert link.path == url(application)
        params = {key: values[0] for key, values in parse_qs(link.query).items()}
    updates = [
        e.change_id for e in sorted(log["entries"], key=lambda e: e.activity_at, reverse=True) if e.action == "update"
    ]
    assert seen == updates


def test_a_changed_skiptoken_or_another_filter_is_refused(application, log, api_as, reader_token):
    client = api_as(reader_token)
    body = get(client, application, **{"$top": "2"})[1]
    token = parse_qs(urlsplit(body["@odata.nextLink"]).query)["$skiptoken"][0]
    changed = get(client, application, **{"$top": "2", "$skiptoken": token[:-3] + "abc"})
    assert changed[0].status_code == 400 and "changed or cut short" in changed[1]["error"]["message"]
    other = get(client, application, **{"$top": "2", "$skiptoken": token, "$filter": "provisioningAction eq 'create'"})
    assert other[0].status_code == 400 and "another $filter" in other[1]["error"]["message"]
    too_many = get(client, application, **{"$top": "5000"})
    assert too_many[0].status_code == 400 and too_many[1]["error"]["code"] == "BadRequest"


@pytest.mark.parametrize(
    ("odata", "says"),
    [
        ("provisioningAction eq 'create' or provisioningAction eq 'update'", "'or' is not supported"),
        ("servicePrincipal/id eq 'x'", "Filtering on 'servicePrincipal/id' is not supported"),
        ("provisioningStatusInfo/status eq 'exploded'", "is not one of success, failure, skipped, warning"),
        ("activityDateTime ge 2026-11-27T10:00:00Z", "whole days"),
        ("provisioningAction ne 'create'", "takes eq"),
        ("(provisioningAction eq 'create')", "is not supported"),
        ("cycleId eq '" + "x" * 40 + "'", "at most 36"),
    ],
)
def test_an_unsupported_filter_is_a_graph_400_naming_what_is_supported(application, api_as, reader_token, odata, says):
    response, body = get(api_as(reader_token), application, **{"$filter": odata})
    assert response.status_code == 400 and body["error"]["code"] == "Request_UnsupportedQuery"
    assert (
        says in body["error"]["message"]
        and "Supported:" in body["error"]["message"]
        or says in body["error"]["message"]
    )
    assert "provisioningStatusInfo/status eq" in body["error"]["message"] or "at most" in says


def test_the_filter_reader_quotes_and_ranges():
    assert filter_params("startswith(sourceIdentity/displayName,'O''Brien')") == {"identity": "O'Brien"}
    assert filter_params("activityDateTime gt 2026-11-01 and activityDateTime le 2026-11-03") == {
        "date": "custom", "start": "2026-11-02", "end": "2026-11-03",
    }  # fmt: skip
    with pytest.raises(UnsupportedFilter, match="ends before it starts"):
        filter_params("activityDateTime ge 2026-11-05 and activityDateTime le 2026-11-03")
    with pytest.raises(UnsupportedFilter, match="different values"):
        filter_params("provisioningAction eq 'create' and provisioningAction eq 'update'")
